// Massif
