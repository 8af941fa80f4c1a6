

WO-X