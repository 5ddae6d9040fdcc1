/*
 * api_conf.h -- config files and bounded line reading for helpers.
 *
 * The config format is the one OpenSMTPD's extras drivers read: one
 * "key value" or "key: value" per line, blank lines and lines whose
 * first non-blank character is '#' ignored.  The key ends at the first
 * space, tab or ':'; the value is the rest of the line with surrounding
 * white space removed ('#' inside a value is kept: SQL may contain it).
 * Unlike the extras, a line without a value, a duplicate key, an
 * unknown key or an over-long line makes the load fail with a message
 * naming file and line: a broken config is refused at startup.
 */
#ifndef API_CONF_H
#define API_CONF_H

#include <stdio.h>

#include "api_dict.h"
#include "api_limits.h"

/*
 * api_init - common start of every helper's main(): program name for
 * the logs, options (-v: verbose), exactly one argument (the config
 * path); SIGPIPE ignored, so that writing to a closed socket is an
 * error, not death.  Returns 0, or -1 after logging the usage error.
 */
int		 api_init(const char *progname, int argc, char *argv[]);
/* api_conf_path - the argument given to the helper (config or data file) */
const char	*api_conf_path(void);

/*
 * api_line_read - read one line into buf (newline removed), at most
 * size - 1 bytes.  Returns 1 for a line, 0 at end of file, -1 on a read
 * error or a line that does not fit (the rest of it is skipped, errno
 * is EMSGSIZE); *lineno counts lines either way.
 */
int		 api_line_read(FILE *, char *buf, size_t size, size_t *lineno);

/*
 * api_conf_split - split a config line in place.  Returns 1 with *key
 * and *value set, 0 for a blank or comment line, -1 for a key without
 * a value.
 */
int		 api_conf_split(char *line, char **key, char **value);

/*
 * api_file_lines - call fn on every line of path (newline removed, with
 * its 1-based number), stopping at the first fn that returns -1.  Open,
 * read and over-long line errors are logged with path:line.  Returns 0
 * when every line was taken, -1 otherwise.
 */
int		 api_file_lines(const char *path,
		    int (*fn)(char *line, size_t lineno, void *arg), void *arg);

/*
 * api_conf_load - read path into conf (key -> malloc'd value).  keys
 * is the NULL-terminated list of accepted keys (NULL: any key).
 * Returns 0, or -1 after logging file:line and the reason; conf is
 * then empty.  Release it with api_conf_free.
 */
int		 api_conf_load(const char *path, const char *const *keys,
		    struct dict *conf);
void		 api_conf_free(struct dict *conf);

/*
 * api_conf_number - the value of KEY in conf as an integer from min to
 * max into *out, or dflt when the key is absent.  0, or -1 after
 * logging path, key and the bad value.
 */
int		 api_conf_number(struct dict *conf, const char *path,
		    const char *key, long long min, long long max,
		    long long dflt, long long *out);

#endif
