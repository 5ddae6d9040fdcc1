/*
 * mda_util_fuzz.c -- libFuzzer target for the parsers of outside input
 * the delivery programs share (api/mda_util.c): the mboxrd escaper of
 * mail.mboxfile, the X-Spam header test of mail.maildir and the reply
 * line of mail.lmtp.
 *
 * The message is escaped in chunks whose sizes the first input byte
 * chooses; the output must be the same whatever the chunking, no line
 * of it may start with "From ", and removing one '>' from every line
 * matching ^>+From  must give the input back (mboxrd is reversible).
 * The header test and the reply parser must never read past the input
 * (exact-size heap copies).  The delivery agent's request and answer
 * packets (fuzz_agent) parse without reading past them, and a parsed
 * request encodes back to the same arguments.  Any breach aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mda_util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fuzz_buf {
	char	*p;
	size_t	 len, cap;
};

static int
fuzz_put(void *arg, const char *p, size_t n)
{
	struct fuzz_buf	*b = arg;

	if (b->len + n > b->cap)
		abort();
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* fuzz_escape - escape IN in chunks of CHUNK bytes into B */
static void
fuzz_escape(const char *in, size_t n, size_t chunk, struct fuzz_buf *b)
{
	struct mda_util_mbox	m;
	size_t			off, k;

	mda_util_mbox_init(&m, fuzz_put, b);
	for (off = 0; off < n; off += k) {
		k = n - off < chunk ? n - off : chunk;
		if (mda_util_mbox_escape(&m, in + off, k) == -1)
			abort();
	}
	if (mda_util_mbox_end(&m) == -1)
		abort();
}

/* fuzz_unescape - drop one '>' of each ^>+From  line; the length */
static size_t
fuzz_unescape(char *p, size_t n)
{
	size_t	i = 0, o = 0, j;

	while (i < n) {
		/* at a line start */
		for (j = i; j < n && p[j] == '>'; j++)
			;
		if (j > i && n - j >= 5 && memcmp(p + j, "From ", 5) == 0)
			i++;
		while (i < n && p[i] != '\n')
			p[o++] = p[i++];
		if (i < n)
			p[o++] = p[i++];
	}
	return o;
}

/*
 * fuzz_agent - the delivery agent's codec: IN as a request packet (an
 * exact-size copy, parsed in place) and, when it parses, encoded again
 * to the same arguments; IN as an answer packet: a code 0-255 and one
 * line without a control byte
 */
static void
fuzz_agent(const char *in, size_t n)
{
	char			*req, *argv[MDA_UTIL_AGENT_ARGS + 2];
	char			*argv2[MDA_UTIL_AGENT_ARGS + 2];
	char			 enc[MDA_UTIL_AGENT_REQ_MAX], line[128];
	unsigned long long	 size, size2;
	int			 argc, argc2, has, has2, len, code, i;
	size_t			 k;

	if ((req = malloc(n > 0 ? n : 1)) == NULL)
		abort();
	memcpy(req, in, n);
	argc = mda_util_agent_parse(req, n, "prog", argv, &size, &has);
	if (argc != -1) {
		if (argc < 1 || argv[argc] != NULL ||
		    strcmp(argv[0], "prog") != 0 || (!has && size != 0))
			abort();
		len = mda_util_agent_request(enc, sizeof enc, has ? size : 0,
		    argc - 1, argv + 1);
		/* "0" announced and "-" encode alike: compare sizes only */
		if (len != -1) {
			argc2 = mda_util_agent_parse(enc, (size_t)len, "prog",
			    argv2, &size2, &has2);
			if (argc2 != argc || size2 != size)
				abort();
			for (i = 1; i < argc; i++)
				if (strcmp(argv[i], argv2[i]) != 0)
					abort();
		}
	}
	free(req);
	if (mda_util_agent_answer(in, n, &code, line, sizeof line) == 0) {
		if (code < 0 || code > 255)
			abort();
		for (k = 0; line[k] != '\0'; k++)
			if ((unsigned char)line[k] < 0x20 ||
			    (unsigned char)line[k] >= 0x7f)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_buf	a, b;
	char		*in, *line;
	size_t		chunk, n, i;
	int		last;

	if (size < 1 || size > 65536)
		return 0;
	chunk = (size_t)data[0] % 7 + 1;
	n = size - 1;
	in = malloc(n + 1);
	a.cap = b.cap = 2 * n + 1;
	a.p = malloc(a.cap);
	b.p = malloc(b.cap);
	if (in == NULL || a.p == NULL || b.p == NULL)
		abort();
	memcpy(in, data + 1, n);
	a.len = b.len = 0;
	fuzz_escape(in, n, n > 0 ? n : 1, &a);
	fuzz_escape(in, n, chunk, &b);
	if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
		abort();
	for (i = 0; i + 5 <= a.len; i++)
		if ((i == 0 || a.p[i - 1] == '\n') &&
		    memcmp(a.p + i, "From ", 5) == 0)
			abort();
	if (fuzz_unescape(a.p, a.len) != n || memcmp(a.p, in, n) != 0)
		abort();

	(void)mda_util_is_spam(in, n);

	/* one reply line: NUL-terminated, from an exact-size copy */
	line = malloc(n + 1);
	if (line == NULL)
		abort();
	memcpy(line, in, n);
	line[n] = '\0';
	i = (size_t)mda_util_reply_code(line, &last);
	if ((int)i != -1 && ((int)i < 200 || (int)i > 599))
		abort();
	free(line);
	fuzz_agent(in, n);
	free(in);
	free(a.p);
	free(b.p);
	return 0;
}
