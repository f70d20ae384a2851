// SPDX-License-Identifier: GPL-2.0
/*
 * An 8250/16550A UART for Linux guests (console=ttyS0), on COM1: enough
 * of the register file for the kernel's 8250 driver to detect a 16550A,
 * transmit (the byte goes to the console fd at once, so THR is always
 * empty) and receive (a thread reads the input fd into the RX FIFO).
 *
 * Interrupts: the line level is recomputed after every register access
 * and every received chunk, and only changes are sent with KVM_IRQ_LINE.
 * ISA IRQs are edge-triggered, so dropping the line whenever nothing is
 * pending (e.g. after the driver drains the FIFO) is what lets the next
 * byte raise a fresh edge.
 *
 * Locking: s->lock protects the registers and the FIFO; vCPU threads and
 * the input thread take it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "user/linux/linux-priv.h"

#define UART_RX		0	/* RBR / THR / DLL */
#define UART_IER	1	/* IER / DLM */
#define UART_IIR	2	/* IIR (read) / FCR (write) */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define IER_RDI		0x01
#define IER_THRI	0x02
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE_TEMT	0x60
#define MSR_IDLE	0xb0	/* DCD, DSR, CTS: a terminal is there */

#define RX_FIFO		1024

struct serial {
	struct vm *vm;
	uint16_t base;
	int irq;
	int in_fd, out_fd;
	pthread_mutex_t lock;
	uint8_t ier, fcr, lcr, mcr, scr, dll, dlm;
	bool thr_pending;	/* THR-empty interrupt not yet acknowledged */
	bool irq_level;
	uint8_t rx[RX_FIFO];
	unsigned int rx_head, rx_len;
	/* Input thread; stop[1] written to end it. */
	pthread_t thread;
	bool thread_started;
	int stop[2];
	bool raw_tty;
	struct termios saved_tty;
};

static uint8_t serial__iir(const struct serial *s)
{
	uint8_t fifo = s->fcr & FCR_ENABLE ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && s->rx_len)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thr_pending)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

/* s->lock held. */
static void serial__update_irq(struct serial *s)
{
	bool level = !(serial__iir(s) & IIR_NO_INT);

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	linux__irq_line(s->vm, s->irq, level);
}

static void serial__rx_push(struct serial *s, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n && s->rx_len < RX_FIFO; i++)
		s->rx[(s->rx_head + s->rx_len++) % RX_FIFO] = buf[i];
}

static void serial__write_out(struct serial *s, uint8_t c)
{
	/* A kick may interrupt the write (no SA_RESTART): retry. */
	while (write(s->out_fd, &c, 1) < 0 && errno == EINTR)
		;
}

static void serial__thr(struct serial *s, uint8_t v)
{
	if (s->mcr & MCR_LOOP)
		serial__rx_push(s, &v, 1);
	else
		serial__write_out(s, v);
	s->thr_pending = true;	/* sent at once: THR empty again */
}

bool serial__claims(const struct serial *s, uint16_t port)
{
	return s && port >= s->base && port < s->base + 8;
}

void serial__out(struct serial *s, uint16_t port, uint8_t v)
{
	bool dlab;

	pthread_mutex_lock(&s->lock);
	dlab = s->lcr & LCR_DLAB;
	switch (port - s->base) {
	case UART_RX:
		if (dlab)
			s->dll = v;
		else
			serial__thr(s, v);
		break;
	case UART_IER:
		if (dlab) {
			s->dlm = v;
			break;
		}
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thr_pending = true;
		s->ier = v & 0x0f;
		break;
	case UART_IIR:
		if (v & FCR_CLEAR_RX)
			s->rx_len = 0;
		s->fcr = v & 0xc9;
		break;
	case UART_LCR: s->lcr = v; break;
	case UART_MCR: s->mcr = v & 0x1f; break;
	case UART_SCR: s->scr = v; break;
	default: break;	/* LSR, MSR: read-only */
	}
	serial__update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* In loopback the modem outputs come back as inputs (RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD). */
static uint8_t serial__msr(const struct serial *s)
{
	if (!(s->mcr & MCR_LOOP))
		return MSR_IDLE;
	return (s->mcr & 0x02) << 3 | (s->mcr & 0x01) << 5 | (s->mcr & 0x04) << 4 |
	       (s->mcr & 0x08) << 4;
}

static uint8_t serial__rbr(struct serial *s)
{
	uint8_t v;

	if (!s->rx_len)
		return 0;
	v = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % RX_FIFO;
	s->rx_len--;
	return v;
}

uint8_t serial__in(struct serial *s, uint16_t port)
{
	bool dlab;
	uint8_t v = 0;

	pthread_mutex_lock(&s->lock);
	dlab = s->lcr & LCR_DLAB;
	switch (port - s->base) {
	case UART_RX: v = dlab ? s->dll : serial__rbr(s); break;
	case UART_IER: v = dlab ? s->dlm : s->ier; break;
	case UART_IIR:
		v = serial__iir(s);
		if ((v & 0x0f) == IIR_THRI)
			s->thr_pending = false;	/* reading IIR acknowledges THRE */
		break;
	case UART_LCR: v = s->lcr; break;
	case UART_MCR: v = s->mcr; break;
	case UART_LSR: v = LSR_THRE_TEMT | (s->rx_len ? LSR_DR : 0); break;
	case UART_MSR: v = serial__msr(s); break;
	case UART_SCR: v = s->scr; break;
	}
	serial__update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return v;
}

/* Read input only while the FIFO has room; poll again shortly when full. */
static void *serial__input(void *arg)
{
	struct serial *s = arg;
	struct pollfd p[2] = { { .fd = s->stop[0], .events = POLLIN },
			       { .fd = s->in_fd, .events = POLLIN } };

	for (;;) {
		uint8_t buf[256];
		size_t room;
		ssize_t n;

		pthread_mutex_lock(&s->lock);
		room = RX_FIFO - s->rx_len;
		pthread_mutex_unlock(&s->lock);
		if (poll(p, room && p[1].fd >= 0 ? 2 : 1, room ? -1 : 10) < 0 && errno != EINTR)
			return NULL;
		if (p[0].revents)
			return NULL;
		if (!room || p[1].fd < 0 || !p[1].revents)
			continue;
		n = read(s->in_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN))) {
			p[1].fd = -1;	/* EOF: the guest just gets no more input */
			continue;
		}
		pthread_mutex_lock(&s->lock);
		serial__rx_push(s, buf, n > 0 ? (size_t)n : 0);
		serial__update_irq(s);
		pthread_mutex_unlock(&s->lock);
	}
}

/* A terminal on input: pass keys through as typed (no line editing or echo
 * by the host, the guest echoes); ^C still stops kvmdbg-launch.
 */
static void serial__raw_tty(struct serial *s)
{
	struct termios t;

	if (!isatty(s->in_fd) || tcgetattr(s->in_fd, &s->saved_tty))
		return;
	t = s->saved_tty;
	t.c_lflag &= ~(ICANON | ECHO | ECHONL | IEXTEN);
	t.c_iflag &= ~(ICRNL | IXON);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	s->raw_tty = tcsetattr(s->in_fd, TCSANOW, &t) == 0;
}

struct serial *serial__create(struct vm *vm, uint16_t base, int irq, int in_fd,
			      int out_fd)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	*s = (struct serial) { .vm = vm, .base = base, .irq = irq, .in_fd = in_fd,
			       .out_fd = out_fd, .stop = { -1, -1 } };
	pthread_mutex_init(&s->lock, NULL);
	if (in_fd < 0)
		return s;
	if (pipe2(s->stop, O_CLOEXEC) < 0) {
		serial__destroy(s);
		return NULL;
	}
	serial__raw_tty(s);
	s->thread_started = pthread_create(&s->thread, NULL, serial__input, s) == 0;
	return s;
}

void serial__destroy(struct serial *s)
{
	if (!s)
		return;
	if (s->thread_started) {
		while (write(s->stop[1], "x", 1) < 0 && errno == EINTR)
			;
		pthread_join(s->thread, NULL);
	}
	if (s->raw_tty)
		tcsetattr(s->in_fd, TCSANOW, &s->saved_tty);
	if (s->stop[0] >= 0)
		close(s->stop[0]);
	if (s->stop[1] >= 0)
		close(s->stop[1]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Registers only: bytes still in the RX FIFO belong to the host's input. */
void serial__save(struct serial *s, uint8_t out[SERIAL_STATE_SIZE])
{
	pthread_mutex_lock(&s->lock);
	memset(out, 0, SERIAL_STATE_SIZE);
	out[0] = s->ier;
	out[1] = s->fcr;
	out[2] = s->lcr;
	out[3] = s->mcr;
	out[4] = s->scr;
	out[5] = s->dll;
	out[6] = s->dlm;
	out[7] = s->thr_pending;
	out[8] = s->irq_level;
	pthread_mutex_unlock(&s->lock);
}

void serial__load(struct serial *s, const uint8_t in[SERIAL_STATE_SIZE])
{
	pthread_mutex_lock(&s->lock);
	s->ier = in[0] & 0x0f;
	s->fcr = in[1] & 0xc9;
	s->lcr = in[2];
	s->mcr = in[3] & 0x1f;
	s->scr = in[4];
	s->dll = in[5];
	s->dlm = in[6];
	s->thr_pending = in[7] & 1;
	s->irq_level = in[8] & 1;
	pthread_mutex_unlock(&s->lock);
}

/*
 * For snapshot resume, once the irqchip and every LAPIC are restored
 * (they overwrite any edge the input thread raised meanwhile, e.g. for
 * host input that came in during the restore): drive the line low, then
 * high again if an interrupt is pending, so the guest gets a fresh edge
 * instead of a FIFO nobody is told about.
 */
void serial__resync_irq(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	s->irq_level = false;
	linux__irq_line(s->vm, s->irq, 0);
	serial__update_irq(s);
	pthread_mutex_unlock(&s->lock);
}
