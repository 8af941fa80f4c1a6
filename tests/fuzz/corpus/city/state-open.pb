
	Chongqinginternet+
	ChongqinginternetWO-A"K-A(€¬¬É«3HP+
	ChongqinginternetWO-B"K-B(ÀûĞÉ«3HP&
	ChongqinginternetWO-C(€ËõÉ«3HP$
	ChongqinginternetWO-D(€±ËÌ«3H (2$INC-Chongqing|internet|17640444000008€¬¬É«3@€ËõÉ«3HÀ¹ãÊ«3X`