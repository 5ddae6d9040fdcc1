/*
 * proctitle.c -- process titles on Linux: `ps` shows "smtpd: control".
 *
 * The title is written over the memory of the original argv strings,
 * which the kernel shows as /proc/PID/cmdline; the rest of that area is
 * cleared so no old argument shows through.  The short name (comm) stays
 * "smtpd", so pidof and pkill find every process.  Called once, after
 * the command line was parsed: argv is not read again afterwards.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "smtpd.h"

static char	*proctitle_area;
static size_t	 proctitle_size;

void
proctitle_init(int argc, char **argv)
{
	char	*end;
	int	 i;

	if (argc == 0 || argv[0] == NULL)
		return;
	/* only the contiguous argv strings are ours to overwrite */
	end = argv[0] + strlen(argv[0]) + 1;
	for (i = 1; i < argc; i++) {
		if (argv[i] != end)
			break;
		end = argv[i] + strlen(argv[i]) + 1;
	}
	proctitle_area = argv[0];
	proctitle_size = (size_t)(end - argv[0]);
}

void
proctitle_set(const char *name)
{
	if (proctitle_area == NULL || proctitle_size < 2)
		return;
	memset(proctitle_area, 0, proctitle_size);
	snprintf(proctitle_area, proctitle_size, "smtpd: %s", name);
}
