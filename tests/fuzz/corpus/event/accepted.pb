
EV-D1-02	WO-DEMO-1 ¿≥©∫∑3(ê√©∫∑32	noc-op-07Z
	noc-op-07