// MySQLServer
