/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The proxy's framing, driven from the VMM side with arbitrary bytes.  The
 * input is a list of chunks: a length byte L, then L bytes the "VMM" writes
 * (a length byte of 0xFF closes the VMM's end instead).  After each chunk
 * the proxy is serviced until it stops making progress.  The "swtpm" end is
 * fake: before each service it has one fixed valid response queued, which
 * is what the framing logic needs (this tests framing, not the TPM).
 *
 * Oracles (trap on violation): everything the proxy sends swtpm and
 * everything it sends the VMM is a sequence of whole frames with a TPM 2.0
 * tag and 10 <= size <= TPMPROXY_MAX_MSG; the proxy never holds more than
 * one frame.
 */
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attest/vtpm/tpmproxy.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

static const uint8_t canned[] = { 0x80, 0x01, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0 };

/* Reassembles a byte stream into frames and checks each one. */
struct checker {
	uint8_t buf[TPMPROXY_MAX_MSG];
	size_t have;
	int responses;      /* to the VMM: a BAD_TAG answer has tag 0x00C4 */
};

static void check_stream(struct checker *c, int fd)
{
	for (;;) {
		size_t need = 10;
		ssize_t n;

		if (c->have >= 10) {
			uint16_t tag = (uint16_t)(c->buf[0] << 8 | c->buf[1]);

			need = (size_t)c->buf[2] << 24 | (size_t)c->buf[3] << 16 |
			       (size_t)c->buf[4] << 8 | c->buf[5];
			/* BAD_TAG answers carry the TPM's error tag (0x00C4). */
			if ((tag != 0x8001 && tag != 0x8002 && !(c->responses && tag == 0x00C4)) ||
			    need < 10 ||
			    need > TPMPROXY_MAX_MSG)
				__builtin_trap();
		}
		n = recv(fd, c->buf + c->have, need - c->have, MSG_DONTWAIT);
		if (n <= 0)
			return;
		c->have += (size_t)n;
		if (c->have >= 10 && c->have == need)
			c->have = 0;
	}
}

static void service(struct tpmproxy *p, int fake_tpm, uint64_t *queued)
{
	for (int i = 0; i < 8 && tpmproxy_fd(p) >= 0; i++) {
		uint64_t before = p->guest_cmds + p->guest_refused;

		if (*queued <= p->guest_cmds) {
			if (write(fake_tpm, canned, sizeof(canned)) != sizeof(canned))
				__builtin_trap();
			(*queued)++;
		}
		if (tpmproxy_service(p, POLLIN | POLLOUT) ||
		    p->guest_cmds + p->guest_refused == before)
			break;
	}
	if (p->have > TPMPROXY_MAX_MSG || p->out_len > TPMPROXY_MAX_MSG)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tpmproxy p;
	static struct checker to_tpm, to_vmm;
	int vmm[2], tpm[2];
	uint64_t queued = 0;
	size_t i = 0;

	log_set_level(LOG_ERR);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, vmm))
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, tpm) || tpmproxy_init(&p, vmm[0], tpm[0]))
		__builtin_trap();
	p.frame_timeout_ms = 1000000;    /* no wall-clock dependence */
	memset(&to_tpm, 0, sizeof(to_tpm));
	memset(&to_vmm, 0, sizeof(to_vmm));
	to_vmm.responses = 1;
	while (i < size && tpmproxy_fd(&p) >= 0) {
		size_t len = data[i++];

		if (len == 0xFF) {
			shutdown(vmm[1], SHUT_WR);
		} else {
			len = len < size - i ? len : size - i;
			if (len && write(vmm[1], data + i, len) != (ssize_t)len)
				break;
			i += len;
		}
		service(&p, tpm[1], &queued);
		check_stream(&to_tpm, tpm[1]);
		check_stream(&to_vmm, vmm[1]);
	}
	tpmproxy_free(&p);
	close(vmm[1]);
	close(tpm[1]);
	return 0;
}
