/*
 * table_api.h -- the table helper side of the proc table protocol.
 *
 * A table helper serves a struct table_backend (table_backend.h) with
 * table_api_serve(), or registers callbacks and calls
 * table_api_dispatch(); both speak PROC_TABLE_API_VERSION 2
 * (libexec-protocols.md section 4) on fd 0 byte for byte: OPEN
 * handshake, then CHECK, LOOKUP, FETCH, UPDATE and CLOSE, every reply of
 * type 0.  Or, when the daemon's first byte is 'c' (a 7.6+ daemon's
 * "config|..." handshake; a 6.x OPEN frame starts with 2, or 0 on a
 * big-endian host), the 7.6+ text protocol (section 7): requests read
 * on fd 0, lines written on fd 1 when it is the same socket (as 7.6
 * spawns helpers), else on fd 0; every registered service (the
 * backend's) announced with register|NAME.  The callback signatures are those of OpenSMTPD's extras glue,
 * so its drivers build unchanged; the registration is a thin shim, a
 * backend whose methods call the callbacks.
 *
 * Callback contract: return 1 (found / present / reloaded), 0 (not
 * found / absent / reload failed) or -1 (error, including "service not
 * supported").  lookup and fetch write a NUL-terminated value of at
 * most dstsz bytes into dst.  Any other return, or a value that is not
 * terminated inside dst, is answered as -1.
 */
#ifndef API_TABLE_API_H
#define API_TABLE_API_H

#include <stddef.h>

#include "api_dict.h"
#include "table_backend.h"

#define PROC_TABLE_API_VERSION	2

enum table_proc_msg {
	PROC_TABLE_OK = 0,
	PROC_TABLE_FAIL = 1,
	PROC_TABLE_OPEN = 2,
	PROC_TABLE_CLOSE = 3,
	PROC_TABLE_UPDATE = 4,
	PROC_TABLE_CHECK = 5,
	PROC_TABLE_LOOKUP = 6,
	PROC_TABLE_FETCH = 7,
};

/* the size of struct table_open_params: u32 version + char name[2048] */
#define TABLE_OPEN_PARAMS_SIZE	2052


void		 table_api_on_update(int (*)(void));
void		 table_api_on_check(int (*)(int, struct dict *, const char *));
void		 table_api_on_lookup(int (*)(int, struct dict *, const char *,
		    char *, size_t));
void		 table_api_on_fetch(int (*)(int, struct dict *, char *, size_t));
/* table_api_get_name - the table name received with OPEN ("" before) */
const char	*table_api_get_name(void);
/* table_api_service_name - "alias", "domain", ... or NULL if unknown */
const char	*table_api_service_name(int service);

/*
 * table_api_serve - serve BACKEND with its context CTX on fd 0 until the
 * daemon is done; returns as table_api_dispatch does.
 */
int		 table_api_serve(const struct table_backend *, void *ctx);
/* table_api_serve_fd - the same on another descriptor (tests) */
int		 table_api_serve_fd(const struct table_backend *, void *ctx,
		    int fd);
/*
 * table_api_main - a whole helper's main(): options (-v), BACKEND's open
 * with argv[0] (the table's name) and the argument, if any (its config,
 * else ""), serve, close.  Returns the exit status (1 if the open or
 * the command line failed).
 */
int		 table_api_main(const struct table_backend *,
		    const char *progname, int argc, char *argv[]);

/*
 * table_api_dispatch - serve the registered callbacks (table_api_on_*)
 * on fd 0 until the daemon is done.
 * Returns 0 on EOF or CLOSE, 1 after a protocol violation or an I/O
 * error (logged): malformed input never crashes the helper, and main()
 * returns this value so that the daemon sees a non-zero exit.
 */
int		 table_api_dispatch(void);
/* table_api_dispatch_fd - the same on another descriptor (tests) */
int		 table_api_dispatch_fd(int fd);

#endif
