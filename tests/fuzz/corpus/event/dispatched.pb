
EV-D1-03	WO-DEMO-1 �ݰ��3(�찺�32dispatchb*
渝通通信代维有限公司ENG-2031