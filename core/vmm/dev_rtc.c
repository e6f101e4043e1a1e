/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MC146818 CMOS RTC at 0x70 (index) / 0x71 (data): the current UTC time in
 * BCD, 24-hour mode, never "update in progress"; the other bytes of the
 * 128-byte CMOS are plain storage.  No alarm or periodic interrupt.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/vmm/devices.h"
#include "core/layout.h"
#include "core/vmm/snap.h"

#define RTC_REG_A    0x0a
#define RTC_REG_B    0x0b
#define RTC_REG_C    0x0c
#define RTC_REG_D    0x0d
#define RTC_CENTURY  0x32

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t nvram[128];
};

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

static uint8_t rtc_value(struct rtc *r, uint8_t idx)
{
	struct tm tm;
	time_t now = time(NULL);

	if (!gmtime_r(&now, &tm))
		memset(&tm, 0, sizeof(tm));
	switch (idx) {
	case 0x00: return bcd(tm.tm_sec);
	case 0x02: return bcd(tm.tm_min);
	case 0x04: return bcd(tm.tm_hour);
	case 0x06: return bcd(tm.tm_wday + 1);
	case 0x07: return bcd(tm.tm_mday);
	case 0x08: return bcd(tm.tm_mon + 1);
	case 0x09: return bcd(tm.tm_year % 100);
	case RTC_CENTURY: return bcd((tm.tm_year + 1900) / 100);
	case RTC_REG_A: return 0x26;     /* 32.768 kHz, 1024 Hz; UIP clear */
	case RTC_REG_B: return 0x02;     /* 24-hour, BCD, no interrupts */
	case RTC_REG_C: return 0x00;
	case RTC_REG_D: return 0x80;     /* battery good */
	default: return r->nvram[idx];
	}
}

static void rtc_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct rtc *r = opaque;

	memset(data, 0xff, len);
	if (len != 1 || off != 1)
		return;
	pthread_mutex_lock(&r->lock);
	data[0] = rtc_value(r, r->index);
	pthread_mutex_unlock(&r->lock);
}

static void rtc_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct rtc *r = opaque;

	if (len != 1)
		return;
	pthread_mutex_lock(&r->lock);
	if (off == 0)
		r->index = data[0] & 0x7f;   /* bit 7: NMI mask, ignored */
	else if (r->index >= 0x0e && r->index != RTC_CENTURY)
		r->nvram[r->index] = data[0];   /* the clock itself is read-only */
	pthread_mutex_unlock(&r->lock);
}

static const struct bus_ops rtc_ops = { .read = rtc_read, .write = rtc_write };

static int rtc_init(struct vm *vm, void **state)
{
	struct rtc *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	rc = bus_register(&vm->pio, PORT_CMOS, 2, "rtc", &rtc_ops, r);
	if (rc) {
		free(r);
		return rc;
	}
	*state = r;
	return 0;
}

static void rtc_fini(void *state)
{
	free(state);
}

/* Snapshot: the index register and the CMOS bytes (the time is the host's). */
static int rtc_save(void *state, struct snap_buf *b)
{
	struct rtc *r = state;
	uint8_t s[1 + sizeof(r->nvram)];
	int rc;

	pthread_mutex_lock(&r->lock);
	s[0] = r->index;
	memcpy(s + 1, r->nvram, sizeof(r->nvram));
	pthread_mutex_unlock(&r->lock);
	b->len = 0;
	rc = snap_buf_put(b, s, sizeof(s));
	return rc;
}

static int rtc_restore(void *state, const uint8_t *p, size_t len)
{
	struct rtc *r = state;

	if (len != 1 + sizeof(r->nvram) || p[0] >= sizeof(r->nvram))
		return -EBADMSG;
	if (!r)
		return 0;
	pthread_mutex_lock(&r->lock);
	r->index = p[0];
	memcpy(r->nvram, p + 1, sizeof(r->nvram));
	pthread_mutex_unlock(&r->lock);
	return 0;
}

const struct vm_device dev_rtc = { "rtc", rtc_init, rtc_fini, rtc_save, rtc_restore };
