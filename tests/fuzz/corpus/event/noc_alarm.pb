
E-AWO-A €Š¢º·3Â
ALM-1CQLP-DL-10001*LOS