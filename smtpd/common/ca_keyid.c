/*
 * ca_keyid.c -- the key id of ca_sign.h: a hash of a key's public
 * half, computed the same way in ca (from the real key) and in the
 * dispatcher (from the public key libtls holds), so the two name one
 * key without the dispatcher ever holding its secret.
 *
 * Used by ca.c and dispatcher_ca.c.  Uses the deprecated RSA / EC_KEY
 * accessors of OpenSSL 3 on purpose: the dispatcher's hooks receive
 * those objects.  Never reads a private component.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/sha.h>

#include "ca_sign.h"

/* ca_keyid_hex - ID is the hex SHA-256 of BUF */
static void
ca_keyid_hex(const unsigned char *buf, size_t len, char id[CA_KEYID_SIZE])
{
	unsigned char	md[SHA256_DIGEST_LENGTH];
	size_t		i;

	SHA256(buf, len, md);
	for (i = 0; i < sizeof md; i++)
		snprintf(id + 2 * i, 3, "%02x", md[i]);
}

int
ca_keyid_rsa(const RSA *rsa, char id[CA_KEYID_SIZE])
{
	const BIGNUM	*n = NULL;
	unsigned char	*buf;
	int		 len;

	RSA_get0_key(rsa, &n, NULL, NULL);
	if (n == NULL || (len = BN_num_bytes(n)) <= 0 ||
	    (buf = malloc(len)) == NULL)
		return -1;
	BN_bn2bin(n, buf);
	ca_keyid_hex(buf, len, id);
	free(buf);
	return 0;
}

int
ca_keyid_ec(const EC_KEY *ec, char id[CA_KEYID_SIZE])
{
	const EC_GROUP	*g = EC_KEY_get0_group(ec);
	const EC_POINT	*pt = EC_KEY_get0_public_key(ec);
	unsigned char	*buf;
	size_t		 len;

	if (g == NULL || pt == NULL || (len = EC_POINT_point2oct(g, pt,
	    POINT_CONVERSION_UNCOMPRESSED, NULL, 0, NULL)) == 0 ||
	    (buf = malloc(len)) == NULL)
		return -1;
	if (EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, buf, len,
	    NULL) != len) {
		free(buf);
		return -1;
	}
	ca_keyid_hex(buf, len, id);
	free(buf);
	return 0;
}

int
ca_keyid_pkey(EVP_PKEY *pkey, char id[CA_KEYID_SIZE])
{
	RSA	*rsa;
	EC_KEY	*ec;
	int	 r = -1;

	switch (EVP_PKEY_base_id(pkey)) {
	case EVP_PKEY_RSA:
		if ((rsa = EVP_PKEY_get1_RSA(pkey)) != NULL) {
			r = ca_keyid_rsa(rsa, id);
			RSA_free(rsa);
		}
		break;
	case EVP_PKEY_EC:
		if ((ec = EVP_PKEY_get1_EC_KEY(pkey)) != NULL) {
			r = ca_keyid_ec(ec, id);
			EC_KEY_free(ec);
		}
		break;
	}
	return r;
}
