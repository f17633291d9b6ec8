#include <mariadb/mysql.h>
#include <mariadb/errmsg.h>
