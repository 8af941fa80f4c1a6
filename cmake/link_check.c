/* An empty program: the libraries linked whole into it must resolve downwards. */
int main(void) { return 0; }
