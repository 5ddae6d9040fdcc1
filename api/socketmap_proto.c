/*
 * socketmap_proto.c -- encoder and decoder of the socketmap protocol
 * (netstrings carrying "map key" requests and status replies).
 *
 * Runs inside libexec/table-socketmap and its fuzz target; it reads
 * bytes a server sent, so every length is checked against the bytes
 * given and the caller's limit before it is used.  It must never
 * allocate, do I/O or log: the caller names the table in its log line.
 */
#include <stdio.h>
#include <string.h>

#include "socketmap_proto.h"

static const struct {
	const char		*word;
	enum socketmap_status	 status;
} socketmap_words[] = {
	{ "OK", SOCKETMAP_OK },
	{ "NOTFOUND", SOCKETMAP_NOTFOUND },
	{ "TEMP", SOCKETMAP_TEMP },
	{ "TIMEOUT", SOCKETMAP_TIMEOUT },
	{ "PERM", SOCKETMAP_PERM },
};

#define SOCKETMAP_NWORDS	(sizeof socketmap_words / sizeof socketmap_words[0])

/* socketmap_encode - "<len>:<name> <key>," */
int
socketmap_encode(const char *name, const char *key, char *dst, size_t dstsz)
{
	size_t	nlen = strlen(name), klen = strlen(key);
	int	n;

	if (nlen == 0 || strpbrk(name, " :,") != NULL)
		return -1;
	n = snprintf(dst, dstsz, "%zu:%s %s,", nlen + 1 + klen, name, key);
	if (n < 0 || (size_t)n >= dstsz)
		return -1;
	return n;
}

/* socketmap_decode - one netstring, as far as the bytes go */
int
socketmap_decode(const char *buf, size_t len, size_t max, const char **data,
    size_t *dlen, size_t *used, const char **err)
{
	size_t	i, n = 0;

	for (i = 0; i < len && buf[i] != ':'; i++) {
		if (buf[i] < '0' || buf[i] > '9') {
			*err = "netstring length is not a number";
			return -1;
		}
		if (i == SOCKETMAP_LEN_DIGITS) {
			*err = "netstring length has too many digits";
			return -1;
		}
		if (i == 1 && buf[0] == '0') {
			*err = "netstring length has a leading zero";
			return -1;
		}
		n = n * 10 + (size_t)(buf[i] - '0');
	}
	if (i == len)
		return 0;
	if (i == 0) {
		*err = "netstring without a length";
		return -1;
	}
	if (n > max) {
		*err = "netstring longer than the limit";
		return -1;
	}
	/* i + 1 + n + 1 <= len: the payload and the comma are here */
	if (len - i - 1 < n + 1)
		return 0;
	if (buf[i + 1 + n] != ',') {
		*err = "netstring not closed by a comma";
		return -1;
	}
	*data = buf + i + 1;
	*dlen = n;
	*used = i + 1 + n + 1;
	return 1;
}

/* socketmap_reply - status word, one space, the rest */
int
socketmap_reply(const char *data, size_t dlen, enum socketmap_status *status,
    const char **text, size_t *tlen, const char **err)
{
	size_t	i, w;

	for (i = 0; i < SOCKETMAP_NWORDS; i++) {
		w = strlen(socketmap_words[i].word);
		if (dlen < w || memcmp(data, socketmap_words[i].word, w) != 0)
			continue;
		if (dlen == w) {
			/* "NOTFOUND" without its space: taken, as Postfix does */
			*status = socketmap_words[i].status;
			*text = data + w;
			*tlen = 0;
			return 0;
		}
		if (data[w] != ' ')
			continue;
		*status = socketmap_words[i].status;
		*text = data + w + 1;
		*tlen = dlen - w - 1;
		return 0;
	}
	*err = "reply is not OK, NOTFOUND, TEMP, TIMEOUT or PERM";
	return -1;
}

/* socketmap_status_name - the status word */
const char *
socketmap_status_name(enum socketmap_status s)
{
	size_t	i;

	for (i = 0; i < SOCKETMAP_NWORDS; i++)
		if (socketmap_words[i].status == s)
			return socketmap_words[i].word;
	return "unknown";
}
