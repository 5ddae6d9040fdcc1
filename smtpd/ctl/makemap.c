/*
 * makemap.c -- makemap(8): build the Berkeley DB file a `db:` table reads
 * from a text file, or dump such a file back to text (COMPAT-06).
 *
 * Runs as the invoking user, outside the daemon, when the smtpctl binary
 * is started under the name makemap (smtpctl.c).  The records are the
 * ones OpenSMTPD 6.8's makemap writes and table_db.c reads: the key
 * lower-cased, key and value each with a trailing NUL, and "<set>" as
 * the value of every key of a `-t set` list.  The input is read the way
 * 6.8 reads it: `#` starts a comment anywhere (`\#` is a literal one), a
 * line ending in an unescaped `\` continues on the next.  The output
 * appears atomically: it is written to a temporary file beside it which
 * is renamed over it only when complete.  The input is outside data: a
 * line over TABLE_LINE_MAX bytes, a control byte, an invalid entry or an
 * unreadable file is an error naming file:line, exit status 1 and no
 * output file, never a crash.  A duplicate key is a warning; the first
 * entry wins, as in the daemon's file tables.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <db_185.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "table.h"

#define MAKEMAP_SET_VALUE	"<set>"		/* value of a set's keys */
#define MAKEMAP_TEMP_SUFFIX	".XXXXXXXXXX"	/* mkstemp(3) template */
#define MAKEMAP_HASH_MAGIC	0x061561	/* Berkeley DB hash meta */
#define MAKEMAP_BTREE_MAGIC	0x053162	/* Berkeley DB btree meta */

enum makemap_kind {
	MAKEMAP_KIND_MAP,	/* key value */
	MAKEMAP_KIND_SET,	/* key: the whole line */
	MAKEMAP_KIND_ALIASES,	/* key: value, value (aliases(5)) */
};

struct makemap {
	enum makemap_kind	 kind;
	DBTYPE			 type;
	const char		*src;
	char			 out[PATH_MAX];
	char			 tmp[PATH_MAX];
	FILE			*fp;
	DB			*db;		/* the output, under tmp */
	DB			*seen;		/* in memory: key -> line */
	unsigned int		 lineno;	/* physical lines read */
	size_t			 nentries;
	char			 phys[TABLE_LINE_MAX + 1];
	char			 line[TABLE_LINE_MAX + 1];
};

/* makemap_usage - the synopsis, exit 1 */
static int
makemap_usage(void)
{
	fprintf(stderr, "usage: makemap [-U] [-d hash|btree] [-o dbfile] "
	    "[-t aliases|set] file\n");
	return 1;
}

/* makemap_error - "makemap: FILE:LINE: why" on stderr; always -1 */
static int __attribute__((format(printf, 3, 4)))
makemap_error(const struct makemap *m, unsigned int line, const char *fmt,
    ...)
{
	va_list	ap;

	fprintf(stderr, "makemap: %s:%u: ", m->src, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* makemap_is_blank - space or tab, the only separators of the format */
static int
makemap_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * makemap_read_physical - one line of the input without its newline (and
 * without a CR before it) into m->phys.  1 read, 0 end of file, -1 error
 * reported.
 */
static int
makemap_read_physical(struct makemap *m, size_t *lenp)
{
	size_t	len = 0, i;
	int	c, any = 0;

	while ((c = getc(m->fp)) != EOF) {
		any = 1;
		if (c == '\n')
			break;
		if (len == TABLE_LINE_MAX)
			return makemap_error(m, m->lineno + 1, "line longer "
			    "than %d bytes", TABLE_LINE_MAX);
		m->phys[len++] = (char)c;
	}
	if (ferror(m->fp)) {
		fprintf(stderr, "makemap: %s: read error: %s\n", m->src,
		    strerror(errno));
		return -1;
	}
	if (!any)
		return 0;
	m->lineno++;
	if (len > 0 && m->phys[len - 1] == '\r')
		len--;		/* a CRLF file */
	for (i = 0; i < len; i++) {
		unsigned char	b = (unsigned char)m->phys[i];

		if ((b < 0x20 && b != '\t') || b == 0x7f) {
			return makemap_error(m, m->lineno, "binary data "
			    "(byte 0x%02x at column %zu)", b, i + 1);
		}
	}
	m->phys[len] = '\0';
	*lenp = len;
	return 1;
}

/*
 * makemap_read_entry - the next logical line into m->line: a `#` not
 * escaped by a backslash ends it, `\#` stands for `#`, an unescaped
 * backslash at the end joins the next line.  *FIRST is its first line.
 * 1 read, 0 end of file, -1 error reported.
 */
static int
makemap_read_entry(struct makemap *m, unsigned int *first)
{
	size_t	len = 0, plen = 0, i, bs;
	int	r, more, comment;

	do {
		if ((r = makemap_read_physical(m, &plen)) == -1)
			return -1;
		if (r == 0) {
			if (len == 0 && *first == 0)
				return 0;
			break;		/* a continuation at end of file */
		}
		if (len == 0 && *first == 0)
			*first = m->lineno;
		bs = 0;			/* backslashes just before i */
		comment = 0;
		for (i = 0; i < plen && !comment; i++) {
			if (m->phys[i] == '#') {
				if (bs % 2 == 0) {
					comment = 1;
					break;
				}
				len--;	/* the escaping backslash */
			}
			bs = m->phys[i] == '\\' ? bs + 1 : 0;
			if (len == TABLE_LINE_MAX)
				return makemap_error(m, *first, "entry "
				    "longer than %d bytes", TABLE_LINE_MAX);
			m->line[len++] = m->phys[i];
		}
		more = !comment && bs % 2 == 1;
		if (more)
			len--;		/* the continuation backslash */
		m->line[len] = '\0';
	} while (more);
	return 1;
}

/* makemap_alias_check_element - table_split_list callback: it parses */
static int
makemap_alias_check_element(const char *element, void *arg)
{
	struct table_alias	 alias;
	char			 why[256];
	char			*bad = arg;

	if (table_parse_alias(element, &alias, why, sizeof why) == -1) {
		snprintf(bad, TABLE_LINE_MAX, "invalid alias \"%.*s\": %s",
		    200, element, why);
		return -1;
	}
	return 0;
}

/*
 * makemap_alias_has_hole - does the list have an empty element ("a,,b",
 * a leading or trailing comma)?  6.8 refuses those; table_split_list
 * would skip them.
 */
static int
makemap_alias_has_hole(const char *v)
{
	int	quote = 0, filled = 0;

	for (; *v != '\0'; v++) {
		if (*v == '\\' && v[1] != '\0') {
			v++;
			filled = 1;
		} else if (quote != 0) {
			if (*v == quote)
				quote = 0;
			filled = 1;
		} else if (*v == '"' || *v == '\'') {
			quote = *v;
			filled = 1;
		} else if (*v == ',') {
			if (!filled)
				return 1;
			filled = 0;
		} else if (!makemap_is_blank(*v))
			filled = 1;
	}
	return !filled;
}

/* makemap_check_aliases - every element of an aliases(5) value parses */
static int
makemap_check_aliases(struct makemap *m, unsigned int line, const char *v)
{
	char	why[256], *bad;
	int	r;

	if (makemap_alias_has_hole(v))
		return makemap_error(m, line, "invalid entry: empty element "
		    "in the alias list \"%.200s\"", v);
	if ((bad = calloc(1, TABLE_LINE_MAX)) == NULL)
		return makemap_error(m, line, "out of memory");
	r = table_split_list(v, makemap_alias_check_element, bad, why,
	    sizeof why);
	if (r == -1)
		makemap_error(m, line, "invalid entry: %s",
		    bad[0] != '\0' ? bad : why);
	free(bad);
	return r;
}

/* makemap_note_first - remember where KEY was first seen */
static void
makemap_note_first(struct makemap *m, DBT *k, unsigned int line)
{
	DBT	v;

	if (m->seen == NULL)
		return;
	v.data = &line;
	v.size = sizeof line;
	if (m->seen->put(m->seen, k, &v, R_NOOVERWRITE) == -1) {
		m->seen->close(m->seen);	/* warnings lose the line */
		m->seen = NULL;
	}
}

/* makemap_warn_duplicate - the first entry of KEY stays */
static void
makemap_warn_duplicate(struct makemap *m, DBT *k, const char *key,
    unsigned int line)
{
	DBT		v;
	unsigned int	first;

	if (m->seen != NULL && m->seen->get(m->seen, k, &v, 0) == 0 &&
	    v.size == sizeof first) {
		memcpy(&first, v.data, sizeof first);
		fprintf(stderr, "makemap: %s:%u: duplicate entry for \"%s\" "
		    "ignored, line %u wins\n", m->src, line, key, first);
	} else
		fprintf(stderr, "makemap: %s:%u: duplicate entry for \"%s\" "
		    "ignored, the first one wins\n", m->src, line, key);
}

/* makemap_put - store KEY (normalised) and VALUE, each with its NUL */
static int
makemap_put(struct makemap *m, unsigned int line, const char *rawkey,
    const char *value)
{
	char	key[TABLE_KEY_MAX], why[128];
	DBT	k, v;
	size_t	vlen = strlen(value);
	int	r;

	if (table_normalize_key(rawkey, key, sizeof key, why, sizeof why) ==
	    -1)
		return makemap_error(m, line, "invalid entry: %s", why);
	if (vlen >= TABLE_VALUE_MAX)
		return makemap_error(m, line, "value of \"%s\" longer than %d "
		    "bytes", key, TABLE_VALUE_MAX - 1);
	k.data = key;
	k.size = strlen(key) + 1;
	v.data = (void *)(uintptr_t)value;
	v.size = vlen + 1;
	r = m->db->put(m->db, &k, &v, R_NOOVERWRITE);
	if (r == -1) {
		fprintf(stderr, "makemap: %s: cannot write the database: %s\n",
		    m->tmp, strerror(errno));
		return -1;
	}
	if (r == 1) {
		makemap_warn_duplicate(m, &k, key, line);
		return 0;
	}
	makemap_note_first(m, &k, line);
	m->nentries++;
	return 0;
}

/*
 * makemap_parse_entry - one logical line: blanks around it dropped, an
 * empty one skipped.  A set stores the whole line as the key; a map or
 * aliases entry is a key ended by a blank or `:`, then any run of blanks
 * and colons, then a value that must not be empty.
 */
static int
makemap_parse_entry(struct makemap *m, unsigned int line)
{
	char	*p = m->line, *end, *val;

	while (makemap_is_blank(*p))
		p++;
	end = p + strlen(p);
	while (end > p && makemap_is_blank(end[-1]))
		*--end = '\0';
	if (*p == '\0')
		return 0;
	if (m->kind == MAKEMAP_KIND_SET)
		return makemap_put(m, line, p, MAKEMAP_SET_VALUE);

	if (strcspn(p, " \t:") == 0)
		return makemap_error(m, line, "invalid entry: no key before "
		    "\"%.200s\"", p);
	/* the daemon's own split, so a file and its db say the same */
	if ((val = table_file_split(p)) == NULL)
		return makemap_error(m, line, "invalid entry: no value for "
		    "\"%.200s\"%s", p, m->line[0] == ' ' || m->line[0] == '\t' ?
		    " (a continued line must end the line before with \\)" :
		    "");
	if (m->kind == MAKEMAP_KIND_ALIASES &&
	    makemap_check_aliases(m, line, val) == -1)
		return -1;
	return makemap_put(m, line, p, val);
}

/* makemap_parse - every entry of the open input into the database */
static int
makemap_parse(struct makemap *m)
{
	unsigned int	first;
	int		r;

	for (;;) {
		first = 0;
		if ((r = makemap_read_entry(m, &first)) != 1)
			return r;
		if (makemap_parse_entry(m, first) == -1)
			return -1;
	}
}

/* makemap_sync_dir - make the rename of PATH durable; best effort */
static void
makemap_sync_dir(const char *path)
{
	char	dir[PATH_MAX];
	int	fd;

	if (strlcpy(dir, path, sizeof dir) >= sizeof dir)
		return;
	if ((fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return;
	(void)fsync(fd);
	close(fd);
}

/*
 * makemap_finish - give the temporary file the input's mode and owner
 * (as 6.8 does, so a private table stays private), flush it and rename
 * it over the output.
 */
static int
makemap_finish(struct makemap *m, int fd, const struct stat *st)
{
	struct stat	cur;

	if (fchmod(fd, st->st_mode & 0666) == -1) {
		fprintf(stderr, "makemap: %s: chmod: %s\n", m->tmp,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &cur) == 0 && (cur.st_uid != st->st_uid ||
	    cur.st_gid != st->st_gid) &&
	    fchown(fd, st->st_uid, st->st_gid) == -1)
		fprintf(stderr, "makemap: warning: %s: cannot give it the "
		    "owner of %s: %s\n", m->out, m->src, strerror(errno));
	if (fsync(fd) == -1) {
		fprintf(stderr, "makemap: %s: fsync: %s\n", m->tmp,
		    strerror(errno));
		return -1;
	}
	if (rename(m->tmp, m->out) == -1) {
		fprintf(stderr, "makemap: cannot rename %s to %s: %s\n",
		    m->tmp, m->out, strerror(errno));
		return -1;
	}
	makemap_sync_dir(m->out);
	return 0;
}

/* makemap_build - the whole run: input to temporary db to output */
static int
makemap_build(struct makemap *m)
{
	struct stat	st;
	int		fd, ok = -1;

	if (stat(m->src, &st) == -1) {
		fprintf(stderr, "makemap: %s: %s\n", m->src, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "makemap: %s: not a regular file\n", m->src);
		return -1;
	}
	if ((m->fp = fopen(m->src, "r")) == NULL) {
		fprintf(stderr, "makemap: %s: %s\n", m->src, strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(m->tmp, sizeof m->tmp, "%s%s", m->out,
	    MAKEMAP_TEMP_SUFFIX) >= sizeof m->tmp) {
		fprintf(stderr, "makemap: %s: path too long\n", m->out);
		fclose(m->fp);
		return -1;
	}
	if ((fd = mkstemp(m->tmp)) == -1) {
		fprintf(stderr, "makemap: cannot create a temporary file "
		    "beside %s: %s\n", m->out, strerror(errno));
		fclose(m->fp);
		return -1;
	}
	m->db = dbopen(m->tmp, O_CREAT | O_TRUNC | O_RDWR, 0600, m->type,
	    NULL);
	if (m->db == NULL)
		fprintf(stderr, "makemap: %s: cannot create the database: "
		    "%s\n", m->tmp, strerror(errno));
	else {
		m->seen = dbopen(NULL, O_CREAT | O_RDWR, 0600, DB_HASH, NULL);
		ok = makemap_parse(m);
		if (m->seen != NULL)
			m->seen->close(m->seen);
		if (m->db->close(m->db) == -1 && ok == 0) {
			fprintf(stderr, "makemap: %s: cannot write the "
			    "database: %s\n", m->tmp, strerror(errno));
			ok = -1;
		}
	}
	fclose(m->fp);
	if (ok == 0 && m->nentries == 0)
		fprintf(stderr, "makemap: warning: empty map created: %s\n",
		    m->out);
	if (ok == 0)
		ok = makemap_finish(m, fd, &st);
	close(fd);
	if (ok == -1)
		unlink(m->tmp);
	return ok;
}

/* makemap_dbtype - DB_HASH or DB_BTREE from a file's meta page, or -1 */
static int
makemap_dbtype(const char *path)
{
	unsigned char	hdr[16];
	uint32_t	magic, swapped;
	ssize_t		n;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		fprintf(stderr, "makemap: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = read(fd, hdr, sizeof hdr);
	close(fd);
	if (n == (ssize_t)sizeof hdr) {
		memcpy(&magic, hdr + 12, sizeof magic);
		swapped = (magic >> 24) | ((magic >> 8) & 0xff00) |
		    ((magic << 8) & 0xff0000) | (magic << 24);
		if (magic == MAKEMAP_HASH_MAGIC ||
		    swapped == MAKEMAP_HASH_MAGIC)
			return DB_HASH;
		if (magic == MAKEMAP_BTREE_MAGIC ||
		    swapped == MAKEMAP_BTREE_MAGIC)
			return DB_BTREE;
	}
	fprintf(stderr, "makemap: %s: not a Berkeley DB hash or btree file\n",
	    path);
	return -1;
}

/* makemap_print_datum - a key or value without its trailing NUL */
static void
makemap_print_datum(const DBT *d)
{
	size_t	len = d->size;

	if (len > 0 && ((const char *)d->data)[len - 1] == '\0')
		len--;
	fwrite(d->data, 1, len, stdout);
}

/*
 * makemap_dump - -U: every record as "key<TAB>value" in database order.
 * The type comes from the file itself, so -d is not needed.
 */
static int
makemap_dump(const char *path)
{
	DB	*db;
	DBT	 k, v;
	int	 type, r;

	if ((type = makemap_dbtype(path)) == -1)
		return -1;
	if ((db = dbopen(path, O_RDONLY, 0, (DBTYPE)type, NULL)) == NULL) {
		fprintf(stderr, "makemap: %s: cannot open the database: %s\n",
		    path, strerror(errno));
		return -1;
	}
	for (r = db->seq(db, &k, &v, R_FIRST); r == 0;
	    r = db->seq(db, &k, &v, R_NEXT)) {
		makemap_print_datum(&k);
		putchar('\t');
		makemap_print_datum(&v);
		putchar('\n');
	}
	if (r == -1)
		fprintf(stderr, "makemap: %s: cannot read the database: %s\n",
		    path, strerror(errno));
	db->close(db);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "makemap: standard output: %s\n",
		    strerror(errno));
		return -1;
	}
	return r == -1 ? -1 : 0;
}

/* makemap_main - makemap [-U] [-d dbtype] [-o dbfile] [-t type] file */
int
makemap_main(int argc, char **argv)
{
	struct makemap	*m;
	const char	*out = NULL;
	int		 ch, dump = 0, r;
	DBTYPE		 type = DB_HASH;
	enum makemap_kind kind = MAKEMAP_KIND_MAP;

	while ((ch = getopt(argc, argv, "d:o:t:U")) != -1) {
		switch (ch) {
		case 'd':
			if (strcmp(optarg, "hash") == 0)
				type = DB_HASH;
			else if (strcmp(optarg, "btree") == 0)
				type = DB_BTREE;
			else {
				fprintf(stderr, "makemap: unsupported DB type "
				    "'%s' (hash or btree)\n", optarg);
				return 1;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			if (strcmp(optarg, "aliases") == 0)
				kind = MAKEMAP_KIND_ALIASES;
			else if (strcmp(optarg, "set") == 0)
				kind = MAKEMAP_KIND_SET;
			else {
				fprintf(stderr, "makemap: unsupported type "
				    "'%s' (aliases or set)\n", optarg);
				return 1;
			}
			break;
		case 'U':
			dump = 1;
			break;
		default:
			return makemap_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return makemap_usage();
	if (dump)
		return makemap_dump(argv[0]) == -1 ? 1 : 0;

	if ((m = calloc(1, sizeof *m)) == NULL) {
		fprintf(stderr, "makemap: out of memory\n");
		return 1;
	}
	m->kind = kind;
	m->type = type;
	m->src = argv[0];
	if ((out != NULL ? strlcpy(m->out, out, sizeof m->out) :
	    (size_t)snprintf(m->out, sizeof m->out, "%s.db", m->src)) >=
	    sizeof m->out) {
		fprintf(stderr, "makemap: output path too long\n");
		free(m);
		return 1;
	}
	r = makemap_build(m);
	free(m);
	return r == -1 ? 1 : 0;
}
