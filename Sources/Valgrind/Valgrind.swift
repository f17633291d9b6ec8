// Valgrind
