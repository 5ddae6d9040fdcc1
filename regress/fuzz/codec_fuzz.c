/*
 * codec_fuzz.c -- libFuzzer target for the daemon's message decoders
 * (smtpd/common/imsg_codec.c): the first input byte picks a decoder, the
 * rest is its payload.  Every decoder must refuse bad payloads with -1,
 * never read outside them, and never abort.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imsg_codec.h"
#include "smtpd.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_proc_status	 ps;
	struct msg_agent_status	 as;
	struct imsg		 imsg;
	const char		*s1, *s2;
	uint64_t		 id;
	uint32_t		 u1, u2;
	enum proc_id		 peer;
	int			 last;

	if (size == 0 || size - 1 > 16368)
		return 0;
	memset(&imsg, 0, sizeof imsg);
	/* an exact-size copy, so ASan sees any read past the payload */
	imsg.data = size > 1 ? malloc(size - 1) : NULL;
	if (size > 1)
		memcpy(imsg.data, data + 1, size - 1);
	imsg.datalen = size - 1;
	imsg.fd = (data[0] & 0x80) ? 0 : -1;

	switch (data[0] & 0x0f) {
	case 0: (void)msg_unpack_parent_peer_fd(&imsg, &peer); break;
	case 1: (void)msg_unpack_parent_control_fd(&imsg); break;
	case 2: (void)msg_unpack_parent_start(&imsg); break;
	case 3: (void)msg_unpack_parent_child_ready(&imsg, &u1, &u2, &s1,
		    &s2); break;
	case 4: (void)msg_unpack_parent_get_status(&imsg, &id); break;
	case 5: (void)msg_unpack_parent_get_status_result(&imsg, &id, &last,
		    &ps); break;
	case 6: (void)msg_unpack_dispatcher_get_status(&imsg, &id); break;
	case 7: (void)msg_unpack_dispatcher_get_status_result(&imsg, &id,
		    &as); break;
	case 8: (void)msg_unpack_ctl_hello(&imsg, &u1); break;
	case 9: (void)msg_unpack_ctl_show_status(&imsg); break;
	case 10: (void)msg_unpack_ctl_proc_status(&imsg, &ps); break;
	case 11: (void)msg_unpack_ctl_agent_status(&imsg, &as); break;
	case 12: (void)msg_unpack_ctl_ok(&imsg); break;
	default: (void)msg_unpack_ctl_fail(&imsg, &s1); break;
	}
	free(imsg.data);
	return 0;
}
