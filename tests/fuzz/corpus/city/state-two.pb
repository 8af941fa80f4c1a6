
	Chongqinginternet)
	ChongqinginternetWO-A"K-A(€¬¬É«3H)
	ChongqinginternetWO-B"K-B(ÀûĞÉ«3H