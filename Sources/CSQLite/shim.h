#include <sqlite3.h>

/* sqlite3_config is variadic, which Swift cannot call: one wrapper per setting used.
   Memory statistics take a global mutex on every allocation; herald never reads them. */
static inline int herald_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
