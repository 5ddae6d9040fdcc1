/*
 * hdraddr.c -- the mailboxes of an address-list header value, one at a
 * time (hdraddr.h).  A small scanner with three pieces of state:
 * inside a quoted string, the depth of comments, inside <...>.  Used by
 * sendmail_msg.c (smtpctl) and smtp_data.c (dispatcher); the input is
 * whatever a client wrote, so every index is checked against N and
 * nothing is written.
 */
#include <string.h>

#include "hdraddr.h"

struct hdraddr_scan {
	int	quoted;
	int	depth;		/* comments */
	int	angle;
};

/* hdraddr_step - account for S[*I] (skipping a quoted pair); 1 when it
 * is plain text: outside quotes, comments and their delimiters */
static int
hdraddr_step(struct hdraddr_scan *sc, const char *s, size_t n, size_t *i)
{
	char	c = s[*i];

	if (c == '\\' && (sc->quoted || sc->depth > 0)) {
		if (*i + 1 < n)
			(*i)++;
		return 0;
	}
	if (sc->depth == 0 && c == '"') {
		sc->quoted = !sc->quoted;
		return 0;
	}
	if (sc->quoted)
		return 0;
	if (c == '(') {
		sc->depth++;
		return 0;
	}
	if (sc->depth > 0) {
		if (c == ')')
			sc->depth--;
		return 0;
	}
	return 1;
}

/* hdraddr_blank - space, tab or a line end (of a folded value) */
static int
hdraddr_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* hdraddr_fill - the address of the item S[off..off+len) */
static void
hdraddr_fill(const char *s, size_t off, size_t len, struct hdraddr *a)
{
	struct hdraddr_scan	sc = { 0, 0, 0 };
	size_t			i, lt = 0, gt = 0, first = 0, last = 0;
	int			have_lt = 0, have = 0, q;

	for (i = off; i < off + len; i++) {
		size_t	at = i;

		q = sc.quoted;
		if (!hdraddr_step(&sc, s, off + len, &i)) {
			/* quoted text belongs to the address */
			if (q || sc.quoted) {
				if (!have)
					first = at;
				have = 1;
				last = i;
			}
			continue;
		}
		if (s[i] == '<') {
			lt = i;
			have_lt = 1;
			gt = 0;
		} else if (s[i] == '>' && have_lt)
			gt = i;
		if (!hdraddr_blank(s[i])) {
			if (!have)
				first = i;
			have = 1;
			last = i;
		}
	}
	a->item_off = off;
	a->item_len = len;
	if (have_lt && gt > lt) {
		a->angle = 1;
		a->addr_off = lt + 1;
		a->addr_len = gt - lt - 1;
	} else {
		a->angle = 0;
		a->addr_off = have ? first : off;
		a->addr_len = have ? last - first + 1 : 0;
	}
}

int
hdraddr_next(const char *s, size_t n, size_t *pos, struct hdraddr *a)
{
	struct hdraddr_scan	sc = { 0, 0, 0 };
	size_t			i, start = *pos;

	for (i = *pos; i <= n; i++) {
		if (i < n) {
			if (!hdraddr_step(&sc, s, n, &i))
				continue;
			if (s[i] == '<')
				sc.angle = 1;
			else if (s[i] == '>')
				sc.angle = 0;
			if (sc.angle || (s[i] != ',' && s[i] != ';' &&
			    s[i] != ':'))
				continue;
			if (s[i] == ':') {	/* a group's display name */
				start = i + 1;
				continue;
			}
		}
		hdraddr_fill(s, start, i - start, a);
		*pos = i < n ? i + 1 : n + 1;
		start = i + 1;
		if (a->addr_len > 0 || a->angle)
			return 1;
		if (i >= n)
			break;
	}
	*pos = n + 1;
	return 0;
}

int
hdraddr_has_domain(const char *s, const struct hdraddr *a)
{
	struct hdraddr_scan	sc = { 0, 0, 0 };
	size_t			i, end = a->addr_off + a->addr_len;

	for (i = a->addr_off; i < end; i++)
		if (hdraddr_step(&sc, s, end, &i) && s[i] == '@')
			return 1;
	return 0;
}
