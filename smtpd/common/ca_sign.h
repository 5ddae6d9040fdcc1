/*
 * ca_sign.h -- what the ca process and the dispatcher agree on for
 * private-key operations (TLS-11): the codes of IMSG_CA_PKI_DATA and
 * IMSG_CA_SIGN (imsg.h) and the key id, a hash of a key's public half,
 * by which the dispatcher names the key it wants used without holding
 * it.  Used by ca.c, parent_pki.c and dispatcher_ca.c; it declares,
 * and ca_keyid.c computes; nothing here ever sees a private key's
 * secret parts.
 */
#ifndef SMTPD_CA_SIGN_H
#define SMTPD_CA_SIGN_H

#include <stddef.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

/* IMSG_CA_PKI_DATA what */
#define CA_PKI_CERT		1
#define CA_PKI_KEY		2

/* IMSG_CA_SIGN op */
#define CA_OP_RSA_PRIV_ENC	1	/* RSA_private_encrypt(padding) */
#define CA_OP_RSA_PRIV_DEC	2	/* RSA_private_decrypt(padding) */
#define CA_OP_ECDSA_SIGN	3	/* ECDSA_sign, DER signature */

#define CA_KEYID_SIZE		65	/* SHA-256 in hex, NUL */
#define CA_PKI_MAX		(1024 * 1024)	/* one chain or key, bytes */
#define CA_SIGN_MAX		1024	/* an operation's input or output */

/* ca_keyid_rsa / ca_keyid_ec / ca_keyid_pkey - the key id of a public
 * key (hex SHA-256 of the RSA modulus, of the uncompressed EC point);
 * 0, or -1 when the key has no public half */
int	ca_keyid_rsa(const RSA *, char id[CA_KEYID_SIZE]);
int	ca_keyid_ec(const EC_KEY *, char id[CA_KEYID_SIZE]);
int	ca_keyid_pkey(EVP_PKEY *, char id[CA_KEYID_SIZE]);

#endif
