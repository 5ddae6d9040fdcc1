/*
 * newaliases.c -- newaliases and sendmail -bi (COMPAT-05): rebuild the
 * database of every aliases table of the configuration.
 *
 * Runs as the invoking user, outside the daemon.  It loads the
 * configuration (-f FILE, else SMTPD_RUNDIR/smtpd.conf, else the
 * compiled-in path), finds the tables actions use as `alias`, and for a
 * `db:` table rebuilds PATH.db from its source PATH with makemap -t
 * aliases (in a child, so makemap's getopt and exits stay its own); a
 * `file:` table is read by the daemon as it is and needs nothing.  It
 * prints one line per table saying what it did, and never touches the
 * running daemon.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"

#define CONF_NEWALIASES_MAX	(4 * 1024 * 1024)	/* config bytes */

/* newaliases_db - makemap -t aliases -o DB SOURCE; 0 or -1 */
static int
newaliases_db(const char *name, const char *db)
{
	char	 src[PATH_MAX];
	char	*argv[] = { "makemap", "-t", "aliases", "-o", NULL, NULL,
		    NULL };
	size_t	 len = strlen(db);
	pid_t	 pid;
	int	 status;

	if (len <= 3 || strcmp(db + len - 3, ".db") != 0 ||
	    len - 3 >= sizeof src) {
		printf("newaliases: table %s: %s does not end in .db, "
		    "nothing done\n", name, db);
		return -1;
	}
	memcpy(src, db, len - 3);
	src[len - 3] = '\0';
	argv[4] = (char *)db;
	argv[5] = src;
	fflush(stdout);
	if ((pid = fork()) == -1) {
		perror("newaliases: fork");
		return -1;
	}
	if (pid == 0) {
		optind = 1;	/* makemap's own getopt from the start */
		_exit(makemap_main(6, argv));
	}
	while (waitpid(pid, &status, 0) == -1)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("newaliases: table %s: makemap failed for %s\n", name,
		    src);
		return -1;
	}
	printf("newaliases: table %s: %s rebuilt from %s\n", name, db, src);
	return 0;
}

/* newaliases_seen - the table was handled already (shared by actions) */
static int
newaliases_seen(const struct conf_table **done, size_t n,
    const struct conf_table *t)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (done[i] == t)
			return 1;
	return 0;
}

/*
 * newaliases_conf - the configuration at PATH.  The database being
 * rebuilt may not exist yet, and the parser checks that a table's file
 * does: refused that way, the text is parsed again without file checks
 * (as the daemon's processes receive it); the first errors are printed
 * only if that fails too.
 */
static struct smtpd_conf *
newaliases_conf(const char *path)
{
	struct smtpd_conf	*c;
	FILE			*errors, *f;
	char			*etext = NULL, *text = NULL;
	size_t			 elen = 0, len;

	if ((errors = open_memstream(&etext, &elen)) == NULL)
		return NULL;
	c = conf_load(path, NULL, 0, errors, NULL);
	fclose(errors);
	if (c == NULL && (f = fopen(path, "r")) != NULL) {
		if ((text = malloc(CONF_NEWALIASES_MAX)) != NULL &&
		    (len = fread(text, 1, CONF_NEWALIASES_MAX, f)) <
		    CONF_NEWALIASES_MAX && !ferror(f))
			c = conf_deserialize((unsigned char *)text, len);
		free(text);
		fclose(f);
	}
	if (c == NULL)
		fprintf(stderr, "%snewaliases: %s: configuration refused\n",
		    etext ? etext : "", path);
	free(etext);
	return c;
}

int
newaliases_main(int argc, char **argv)
{
	const struct conf_table	**done;
	const struct conf_table	 *t;
	struct smtpd_conf	 *c;
	char			  path[PATH_MAX];
	const char		 *d = getenv("SMTPD_RUNDIR");
	size_t			  i, n = 0;
	int			  ch, failed = 0;

	if (d != NULL && *d != '\0')
		snprintf(path, sizeof path, "%s/smtpd.conf", d);
	else
		snprintf(path, sizeof path, "%s", PATH_SMTPD_CONF);
	optind = 1;
	/* as newaliases: -f FILE; as sendmail -bi: sendmail's flags */
	while ((ch = getopt(argc, argv, "f:b:o:")) != -1)
		if (ch == 'f')
			snprintf(path, sizeof path, "%s", optarg);
	if ((c = newaliases_conf(path)) == NULL)
		return EX_CONFIG;
	if ((done = calloc(c->nactions + 1, sizeof *done)) == NULL)
		return EX_OSERR;
	for (i = 0; i < c->nactions; i++) {
		if ((t = c->actions[i]->alias) == NULL ||
		    newaliases_seen(done, n, t))
			continue;
		done[n++] = t;
		if (strcmp(t->backend, "db") == 0 && t->config != NULL)
			failed |= newaliases_db(t->name ? t->name : "(alias)",
			    t->config) == -1;
		else
			printf("newaliases: table %s: %s table, read as it "
			    "is: nothing to do\n", t->name ? t->name :
			    "(alias)", t->backend);
	}
	if (n == 0)
		printf("newaliases: no aliases table in %s\n", path);
	free(done);
	conf_free(&c);
	return failed ? EX_DATAERR : EX_OK;
}
