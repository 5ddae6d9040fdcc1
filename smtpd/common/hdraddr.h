/*
 * hdraddr.h -- the mailboxes of an address-list header value (From,
 * To, Cc, Bcc; RFC 5322 3.4), one at a time.
 *
 * Used by sendmail (-t takes the recipients of To/Cc/Bcc) and by the
 * SMTP server's header completion (SMTP-22 qualifies an address
 * without a domain), so both read a header the same way.  Pure and
 * bounded: offsets into the caller's bytes, no allocation, no copy.
 * Quoted strings, comments (nested, with quoted pairs) and angle
 * brackets hide the separators they contain; a group's "name:" is
 * skipped and its ";" ends an item; empty items are skipped.
 */
#ifndef SMTPD_HDRADDR_H
#define SMTPD_HDRADDR_H

#include <stddef.h>

struct hdraddr {
	size_t	item_off, item_len;	/* the whole item */
	/* the address: inside the item's last <...> when angle, else the
	 * item from its first to its last byte outside comments and
	 * blanks (comments inside it are the caller's to drop) */
	size_t	addr_off, addr_len;
	int	angle;
};

/* hdraddr_next - the next mailbox of S[0..N) from *POS (start at 0):
 * 1 and *A filled, 0 when there is none left */
int	hdraddr_next(const char *s, size_t n, size_t *pos, struct hdraddr *a);

/* hdraddr_has_domain - the address of A (within S) has an "@" outside
 * quotes and comments */
int	hdraddr_has_domain(const char *s, const struct hdraddr *a);

#endif
