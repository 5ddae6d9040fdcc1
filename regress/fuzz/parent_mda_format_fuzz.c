/*
 * parent_mda_format_fuzz.c -- libFuzzer target for the %{...} expander
 * of local deliveries (smtpd/parent/parent_mda.c).
 *
 * Input: a context byte, then "format\0rcpt-user\0dest-user\0domain".
 * The format comes from smtpd.conf, the addresses from outside.  The
 * expander must never crash nor overflow; a refusal must say why; an
 * accepted result must hold no control character, and in a path no
 * ".." component.  Any breach aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "smtpd.h"
#include "../../smtpd/parent/parent_mda.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* part - the next NUL-separated piece of the input, copied to DST */
static size_t
part(const uint8_t *d, size_t size, size_t off, char *dst, size_t dstsz)
{
	size_t	n = 0;

	while (off < size && d[off] != '\0') {
		if (n + 1 < dstsz)
			dst[n++] = (char)d[off];
		off++;
	}
	dst[n] = '\0';
	return off < size ? off + 1 : off;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct envelope	evp;
	static char		f[4096], out[PARENT_MDA_FORMAT_MAX];
	struct parent_mda_vars	v;
	enum parent_mda_ctx	ctx;
	char			err[256];
	size_t			off;
	int			r;

	if (size < 1)
		return 0;
	ctx = data[0] & 1 ? PARENT_MDA_CTX_COMMAND : PARENT_MDA_CTX_PATH;
	memset(&evp, 0, sizeof(evp));
	off = part(data, size, 1, f, sizeof(f));
	off = part(data, size, off, evp.rcpt.user, sizeof(evp.rcpt.user));
	off = part(data, size, off, evp.dest.user, sizeof(evp.dest.user));
	(void)part(data, size, off, evp.dest.domain, sizeof(evp.dest.domain));
	memcpy(&evp.sender, &evp.rcpt, sizeof(evp.sender));
	memset(&v, 0, sizeof(v));
	v.evp = &evp;
	v.username = "user";
	v.directory = "/home/user";
	v.mda = data[0] & 2 ? "/usr/bin/procmail" : NULL;
	v.delim = data[0] & 4 ? '-' : '+';
	err[0] = '\0';
	r = parent_mda_format(out, sizeof(out), f, &v, ctx, err, sizeof(err));
	if (r == -1) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	if (r != 0 || strlen(out) >= sizeof(out))
		abort();
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
	/* no ".." component in a path, whatever made it */
	for (const char *p = out; ctx == PARENT_MDA_CTX_PATH &&
	    (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == out || p[-1] == '/') && (p[2] == '\0' ||
		    p[2] == '/'))
			abort();
	return 0;
}
