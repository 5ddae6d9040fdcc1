/*
 * table_backend.h -- the table backend model: one struct of methods
 * that a table backend implements once and that is hosted two ways,
 * linked into smtpd's table layer (smtpd/table/table.c) or wrapped as
 * a libexec helper by table_api_serve() (table_api.h).
 *
 * A backend keeps all of its state in the context that open() returns:
 * no per-backend globals, so one process can hold many tables of the
 * same backend.  Methods are called from one thread and must not block
 * for long (a file read at open or update is fine, a network wait is
 * not: such backends belong in a helper).  They never exit and never
 * call fatal: outside input (files, keys) is answered with 0 or -1 and
 * a log line naming the table (api_log_*).
 *
 * The struct is versioned: TABLE_BACKEND_V1 has every member below;
 * later versions append methods, never reorder or remove them.
 */
#ifndef API_TABLE_BACKEND_H
#define API_TABLE_BACKEND_H

#include <stddef.h>

#include "table_service.h"

#define TABLE_BACKEND_V1	1

/* list (values only) or mapping (key = value); NONE when unknown/empty */
enum table_shape {
	TABLE_SHAPE_NONE = 0,
	TABLE_SHAPE_LIST,
	TABLE_SHAPE_MAPPING,
};

struct table_backend {
	int		 version;	/* TABLE_BACKEND_V1 */
	const char	*name;
	unsigned int	 services;	/* K_ALIAS | K_DOMAIN | ... */

	/*
	 * open - the context of table TNAME configured by CONFIG (a path,
	 * or "" for none): files are read here, so a bad file is an error
	 * at start-up.  NULL with a reason in err (naming the table).  A
	 * backend without state may leave open NULL: its context is NULL.
	 */
	void	*(*open)(const char *tname, const char *config, char *err,
		    size_t errsz);
	/* update - reload: 1 done, 0 failed and the old content stays */
	int	 (*update)(void *ctx);
	/* close - free the context (NULL is ignored) */
	void	 (*close)(void *ctx);
	/*
	 * The key is normalised by the caller (lower case, no CR/LF).
	 * 1 found, 0 not found, -1 temporary failure (also for a service
	 * the backend does not serve); lookup and fetch write a
	 * NUL-terminated value of at most dstsz bytes.  A NULL method is
	 * answered -1.
	 */
	int	 (*lookup)(void *ctx, enum table_service, const char *key,
		    char *dst, size_t dstsz);
	int	 (*check)(void *ctx, enum table_service, const char *key);
	int	 (*fetch)(void *ctx, enum table_service, char *dst,
		    size_t dstsz);
	/* add - one inline entry (VALUE NULL in a list); 0 or -1 + err */
	int	 (*add)(void *ctx, const char *key, const char *value,
		    char *err, size_t errsz);
	/* shape - list or mapping, NONE if unknown or empty */
	enum table_shape (*shape)(void *ctx);
};

#endif
