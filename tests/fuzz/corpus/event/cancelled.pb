
E-CWO-C €Š¢º·3²
duplicate report