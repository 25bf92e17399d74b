// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * _ffpf: the CPython extension under the `ffpf` package (python/ffpf/).
 * A thin layer over the public API of libffpfbpf (include/ffpf/ffpf.h):
 * the Pythonic parts (enums, FlowRecord, FlowManager, the packet
 * generator) are in python/ffpf/__init__.py.
 *
 * Rules kept here:
 *  - Every library call runs with the GIL released (CALL()): the flow
 *    tracker's thread takes the tracker's lock and then the GIL to call
 *    Python, so holding the GIL while waiting for that lock would deadlock.
 *    Every callback from the library takes the GIL (PyGILState_Ensure).
 *  - Errors raise ffpf.Error (an OSError): errno, the C function's name and
 *    what the library printed during the call (its print callback is
 *    captured per thread while a call from Python runs).
 *  - Packet bytes are not copied: Packet exports a read-only buffer on the
 *    PBuf frame, and Packet.data is a memoryview of it. The frame is given
 *    back at the flow's next read() or release(); the memoryview is
 *    release()d then, so touching it raises ValueError. A buffer derived
 *    from it that is still alive at that point (a slice kept, a
 *    numpy array) makes read()/release()/close() raise BufferError instead
 *    of giving the frame back: nothing ever reads recycled memory.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <ffpf/ffpf.h>

/* --- the library's messages ----------------------------------------------- */

static _Thread_local int capturing;
static _Thread_local char captured[1024];

static int print_fn(enum ffpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	size_t n, have;

	if (level == FFPF_DEBUG)
		return 0;
	if (!capturing)		/* a library thread, or outside any call: as the default */
		return vfprintf(stderr, fmt, ap);
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = 0;
	if (!n)
		return 0;
	have = strlen(captured);
	if (have && have + 2 < sizeof(captured))
		strcat(captured, "; "), have += 2;
	snprintf(captured + have, sizeof(captured) - have, "%s", line);
	return 0;
}

/* Run EXPR with the GIL released and the library's messages captured. */
#define CALL(EXPR)						\
	do {							\
		capturing = 1;					\
		captured[0] = 0;				\
		Py_BEGIN_ALLOW_THREADS				\
		EXPR;						\
		Py_END_ALLOW_THREADS				\
		capturing = 0;					\
	} while (0)

static PyObject *FfpfError;

/* Raise ffpf.Error(errno, "FUNC: strerror[: message]"); returns NULL. */
static PyObject *raise_err(int err, const char *func)
{
	PyObject *msg, *exc;
	char text[1400];

	if (err < 0)
		err = -err;
	if (!err)
		err = EIO;
	snprintf(text, sizeof(text), "%s: %s%s%s", func, strerror(err),
		 captured[0] ? ": " : "", captured);
	exc = PyObject_CallFunction(FfpfError, "is", err, text);
	if (!exc)
		return NULL;
	msg = captured[0] ? PyUnicode_FromString(captured) : Py_NewRef(Py_None);
	if (msg) {
		PyObject_SetAttrString(exc, "message", msg);
		Py_DECREF(msg);
	}
	PyObject *fn = PyUnicode_FromString(func);
	if (fn) {
		PyObject_SetAttrString(exc, "function", fn);
		Py_DECREF(fn);
	}
	PyErr_SetObject(FfpfError, exc);
	Py_DECREF(exc);
	captured[0] = 0;
	return NULL;
}

/* --- objects ------------------------------------------------------------ */

typedef struct PacketObject PacketObject;

typedef struct {
	PyObject_HEAD
	struct ffpf_flow *flow;
	PyObject *share;	/* the Flow whose state this one shares: kept open */
	PyObject *on_end;	/* termination callable */
	PyObject *exc_type, *exc_value, *exc_tb;	/* raised by on_end in sweep() */
	unsigned long sweep_thread;	/* thread inside sweep(), 0: none */
	PacketObject **held;	/* packets read and not released (borrowed) */
	int nheld, held_cap;
	struct ffpf_packet *scratch;
	Py_ssize_t exports;	/* buffers exported: packet data, MBufs */
	int inuse;		/* calls running with the GIL released */
	PyObject *weakreflist;
} FlowObject;

struct PacketObject {
	PyObject_HEAD
	FlowObject *flow;	/* strong: the flow outlives its packets */
	struct ffpf_packet pkt;
	PyObject *view;		/* the memoryview handed out as .data */
	Py_ssize_t exports;
	int slot;		/* index in flow->held, -1 once released */
	int valid;
};

typedef struct {
	PyObject_HEAD
	FlowObject *flow;
	void *mem;
	size_t size;
	size_t cpu_off;		/* offset of cpu[FFPF_MBUF_CPUS]; (size_t)-1: unknown */
	int idx;
} MBufObject;

static PyTypeObject FlowType, PacketType, MBufType;

/* --- Packet -------------------------------------------------------------- */

static int packet_getbuffer(PacketObject *self, Py_buffer *view, int flags)
{
	if (!self->valid) {
		PyErr_SetString(PyExc_ValueError,
				"packet released: its frame went back to the PBuf "
				"(copy with bytes(pkt.data) to keep it)");
		return -1;
	}
	if (PyBuffer_FillInfo(view, (PyObject *)self, (void *)self->pkt.data,
			      self->pkt.caplen, 1, flags) < 0)
		return -1;
	self->exports++;
	self->flow->exports++;
	return 0;
}

static void packet_releasebuffer(PacketObject *self, Py_buffer *view)
{
	self->exports--;
	self->flow->exports--;
}

static PyBufferProcs packet_as_buffer = {
	.bf_getbuffer = (getbufferproc)packet_getbuffer,
	.bf_releasebuffer = (releasebufferproc)packet_releasebuffer,
};

/* Give up the packet's memory: release .data; fails if views derived from it live on. */
static int packet_invalidate(PacketObject *p)
{
	if (!p->valid)
		return 0;
	if (p->view) {
		PyObject *r = PyObject_CallMethod(p->view, "release", NULL);

		if (!r)
			return -1;
		Py_DECREF(r);
		Py_CLEAR(p->view);
	}
	if (p->exports > 0) {
		PyErr_Format(PyExc_BufferError,
			     "packet seq %llu: %zd buffer(s) derived from its data are still "
			     "alive (a slice or an array of pkt.data): drop them, or copy "
			     "with bytes(), before the next read()/release()/close()",
			     (unsigned long long)p->pkt.seq, p->exports);
		return -1;
	}
	p->valid = 0;
	return 0;
}

static PyObject *packet_data(PacketObject *self, void *closure)
{
	if (!self->valid) {
		PyErr_SetString(PyExc_ValueError,
				"packet released: its frame went back to the PBuf "
				"(copy with bytes(pkt.data) to keep it)");
		return NULL;
	}
	if (!self->view) {
		self->view = PyMemoryView_FromObject((PyObject *)self);
		if (!self->view)
			return NULL;
	}
	return Py_NewRef(self->view);
}

static PyObject *packet_valid(PacketObject *self, void *closure)
{
	return PyBool_FromLong(self->valid);
}

static PyObject *packet_bytes(PacketObject *self, PyObject *unused)
{
	if (!self->valid) {
		PyErr_SetString(PyExc_ValueError, "packet released");
		return NULL;
	}
	return PyBytes_FromStringAndSize(self->pkt.data, self->pkt.caplen);
}

static int packet_traverse(PacketObject *self, visitproc visit, void *arg)
{
	Py_VISIT(self->flow);
	Py_VISIT(self->view);
	return 0;
}

static int packet_clear(PacketObject *self)
{
	Py_CLEAR(self->view);
	return 0;
}

static void packet_dealloc(PacketObject *self)
{
	PyObject_GC_UnTrack(self);
	/* No buffer of ours is alive (each holds a reference): the flow
	 * gives the frame back at its next read() or release(). */
	if (self->flow && self->slot >= 0 && self->slot < self->flow->nheld &&
	    self->flow->held[self->slot] == self)
		self->flow->held[self->slot] = NULL;
	Py_CLEAR(self->view);
	Py_CLEAR(self->flow);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *packet_repr(PacketObject *self)
{
	return PyUnicode_FromFormat("<ffpf.Packet seq=%llu caplen=%u wire_len=%u%s>",
				    (unsigned long long)self->pkt.seq, self->pkt.caplen,
				    self->pkt.wire_len, self->valid ? "" : " released");
}

#define PKT_OFF(F) offsetof(PacketObject, pkt) + offsetof(struct ffpf_packet, F)
static PyMemberDef packet_members[] = {
	{ "caplen", T_UINT, PKT_OFF(caplen), READONLY, "bytes captured (len(data))" },
	{ "wire_len", T_UINT, PKT_OFF(wire_len), READONLY, "length on the wire" },
	{ "ts_ns", T_ULONGLONG, PKT_OFF(ts_ns), READONLY, "arrival, ns since the epoch" },
	{ "matched", T_ULONGLONG, PKT_OFF(matched), READONLY, "bit Flow.slot: flows that accepted it" },
	{ "seq", T_ULONGLONG, PKT_OFF(seq), READONLY, "delivery number on the interface and hook" },
	{ "ifindex", T_UINT, PKT_OFF(ifindex), READONLY, NULL },
	{ "dir", T_UBYTE, PKT_OFF(dir), READONLY, "0 ingress, 1 egress" },
	{ "hook", T_UBYTE, PKT_OFF(hook), READONLY, "0 ingress (XDP), 1 egress (TC)" },
	{ "flow_id", T_UINT, PKT_OFF(flow_id), READONLY, "a flowtrack stage's flow id, 0: none" },
	{ "flow", T_OBJECT, offsetof(PacketObject, flow), READONLY, "the Flow it was read from" },
	{ NULL }
};

static PyGetSetDef packet_getset[] = {
	{ "data", (getter)packet_data, NULL,
	  "memoryview of the captured bytes in the PBuf (no copy), valid until the "
	  "flow's next read()/release()", NULL },
	{ "valid", (getter)packet_valid, NULL, "False once the frame was released", NULL },
	{ NULL }
};

static PyMethodDef packet_methods[] = {
	{ "bytes", (PyCFunction)packet_bytes, METH_NOARGS, "a copy of the captured bytes" },
	{ NULL }
};

static PyTypeObject PacketType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "ffpf.Packet",
	.tp_basicsize = sizeof(PacketObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "A packet read from a flow: metadata, and data as a memoryview into the PBuf.",
	.tp_dealloc = (destructor)packet_dealloc,
	.tp_traverse = (traverseproc)packet_traverse,
	.tp_clear = (inquiry)packet_clear,
	.tp_repr = (reprfunc)packet_repr,
	.tp_as_buffer = &packet_as_buffer,
	.tp_members = packet_members,
	.tp_getset = packet_getset,
	.tp_methods = packet_methods,
};

/* --- Flow ---------------------------------------------------------------- */

static int flow_ok(FlowObject *self)
{
	if (!self->flow) {
		PyErr_SetString(PyExc_ValueError, "flow is closed");
		return 0;
	}
	return 1;
}

#define FLOW_OK(self) do { if (!flow_ok(self)) return NULL; } while (0)

/* Give back every packet read: invalidate them first, all or nothing. */
static int flow_release_held(FlowObject *self)
{
	int i, n = self->nheld, ret = 0;

	for (i = 0; i < n; i++)
		if (self->held[i] && packet_invalidate(self->held[i]) < 0)
			return -1;
	if (n && self->flow)
		CALL(ret = ffpf_flow_release(self->flow, n));
	for (i = 0; i < n; i++)
		if (self->held[i])
			self->held[i]->slot = -1;
	self->nheld = 0;
	if (ret < 0) {
		raise_err(ret, "ffpf_flow_release");
		return -1;
	}
	return 0;
}

static int flow_init(FlowObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "ifname", "spec", "name", "hook", "rx", "snaplen",
				  "ibuf_size", "share", "pin", "policy", "group",
				  "daemon", "monitor", NULL };
	const char *ifname, *spec = NULL, *name = NULL, *policy = NULL, *group = NULL,
		   *daemon = NULL;
	unsigned int hook = 0, rx = 0, snaplen = 0, ibuf = 0;
	int pin = 0, monitor = 0, err = 0;
	PyObject *share = Py_None;
	struct ffpf_flow *f;

	if (self->flow) {
		PyErr_SetString(PyExc_RuntimeError, "Flow.__init__ called twice");
		return -1;
	}
	if (!PyArg_ParseTupleAndKeywords(args, kw, "s|z$zIIIIOpzzzp", kwlist, &ifname, &spec,
					 &name, &hook, &rx, &snaplen, &ibuf, &share, &pin,
					 &policy, &group, &daemon, &monitor))
		return -1;
	if (share != Py_None) {
		if (!PyObject_TypeCheck(share, &FlowType)) {
			PyErr_SetString(PyExc_TypeError, "share must be a Flow");
			return -1;
		}
		if (!flow_ok((FlowObject *)share))
			return -1;
	}
	FFPF_OPTS(ffpf_flow_opts, o, .name = name, .hook = hook, .rx = rx, .snaplen = snaplen,
		  .ibuf_size = ibuf,
		  .flags = (pin ? FFPF_FLOW_PIN : 0) | (monitor ? FFPF_FLOW_MONITOR : 0),
		  .share = share != Py_None ? ((FlowObject *)share)->flow : NULL,
		  .policy = policy, .group = group, .daemon = daemon);
	CALL(f = ffpf_flow_create(ifname, &o); err = f ? 0 : errno);
	if (!f) {
		raise_err(err, "ffpf_flow_create");
		return -1;
	}
	self->flow = f;
	if (share != Py_None)
		self->share = Py_NewRef(share);
	if (spec) {
		CALL(err = ffpf_flow_populate(f, spec));
		if (err) {
			raise_err(err, "ffpf_flow_populate");
			return -1;	/* closed by dealloc */
		}
	}
	return 0;
}

static void flow_do_close(FlowObject *self)
{
	struct ffpf_flow *f = self->flow;

	self->flow = NULL;
	if (f)
		CALL(ffpf_flow_close(f));	/* may call on_end (reason closed) */
	Py_CLEAR(self->on_end);
	Py_CLEAR(self->share);
}

static PyObject *flow_close(FlowObject *self, PyObject *unused)
{
	if (!self->flow)
		Py_RETURN_NONE;
	if (self->inuse) {
		PyErr_SetString(PyExc_RuntimeError, "flow in use by another thread");
		return NULL;
	}
	if (flow_release_held(self) < 0)
		return NULL;
	if (self->exports > 0) {
		PyErr_Format(PyExc_BufferError,
			     "cannot close flow: %zd buffer(s) of its packets or MBufs are "
			     "still exported (release the memoryviews first)", self->exports);
		return NULL;
	}
	flow_do_close(self);
	Py_RETURN_NONE;
}

static int flow_traverse(FlowObject *self, visitproc visit, void *arg)
{
	Py_VISIT(self->on_end);
	Py_VISIT(self->share);
	return 0;
}

static int flow_clear(FlowObject *self)
{
	/* a cycle through on_end (e.g. a FlowManager): end the flow */
	if (self->flow && !self->inuse && !self->exports) {
		PyObject *et, *ev, *tb;

		PyErr_Fetch(&et, &ev, &tb);
		if (flow_release_held(self) < 0)
			PyErr_Clear();
		flow_do_close(self);
		PyErr_Restore(et, ev, tb);
	}
	Py_CLEAR(self->on_end);
	Py_CLEAR(self->share);
	return 0;
}

static void flow_dealloc(FlowObject *self)
{
	PyObject *et, *ev, *tb;

	PyObject_GC_UnTrack(self);
	if (self->weakreflist)
		PyObject_ClearWeakRefs((PyObject *)self);
	PyErr_Fetch(&et, &ev, &tb);
	/* No packet is alive (each holds a reference), so nothing is held. */
	self->nheld = 0;
	flow_do_close(self);
	PyErr_Restore(et, ev, tb);
	Py_CLEAR(self->exc_type);
	Py_CLEAR(self->exc_value);
	Py_CLEAR(self->exc_tb);
	PyMem_Free(self->held);
	PyMem_Free(self->scratch);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

#define SIMPLE(NAME, FN)						\
static PyObject *flow_##NAME(FlowObject *self, PyObject *unused)	\
{									\
	int err;							\
									\
	FLOW_OK(self);							\
	CALL(err = FN(self->flow));					\
	if (err)							\
		return raise_err(err, #FN);				\
	Py_RETURN_NONE;							\
}
SIMPLE(instantiate, ffpf_flow_instantiate)
SIMPLE(activate, ffpf_flow_activate)
SIMPLE(pause, ffpf_flow_pause)
SIMPLE(pin, ffpf_flow_pin)

static PyObject *flow_populate(FlowObject *self, PyObject *args)
{
	const char *spec;
	int err;

	FLOW_OK(self);
	if (!PyArg_ParseTuple(args, "s", &spec))
		return NULL;
	CALL(err = ffpf_flow_populate(self->flow, spec));
	if (err)
		return raise_err(err, "ffpf_flow_populate");
	Py_RETURN_NONE;
}

static PyObject *flow_add_filter(FlowObject *self, PyObject *args)
{
	const char *cls, *fargs = NULL;
	int err;

	FLOW_OK(self);
	if (!PyArg_ParseTuple(args, "s|z", &cls, &fargs))
		return NULL;
	CALL(err = ffpf_flow_add_filter(self->flow, cls, fargs));
	if (err)
		return raise_err(err, "ffpf_flow_add_filter");
	Py_RETURN_NONE;
}

static PyObject *u64(__u64 v)
{
	return PyLong_FromUnsignedLongLong(v);
}

static PyObject *flow_stats(FlowObject *self, PyObject *unused)
{
	struct ffpf_flow_stats st = { .sz = sizeof(st) };
	int err;

	FLOW_OK(self);
	CALL(err = ffpf_flow_stats(self->flow, &st));
	if (err)
		return raise_err(err, "ffpf_flow_stats");
	return Py_BuildValue("{sKsKsKsK}", "packets", (unsigned long long)st.packets,
			     "bytes", (unsigned long long)st.bytes,
			     "dispatched", (unsigned long long)st.dispatched,
			     "missed", (unsigned long long)st.missed);
}

static PyObject *flow_filter_stats(FlowObject *self, PyObject *args)
{
	struct ffpf_mbuf_hdr h;
	int idx, err;

	FLOW_OK(self);
	if (!PyArg_ParseTuple(args, "i", &idx))
		return NULL;
	CALL(err = ffpf_flow_filter_stats(self->flow, idx, &h));
	if (err)
		return raise_err(err, "ffpf_flow_filter_stats");
	return Py_BuildValue("{sKsKsK}", "seen", (unsigned long long)h.seen,
			     "passed", (unsigned long long)h.passed,
			     "bytes", (unsigned long long)h.bytes);
}

#define ST(F) #F, (unsigned long long)st.F
static PyObject *flow_iface_stats(FlowObject *self, PyObject *unused)
{
	struct ffpf_iface_stats st = { .sz = sizeof(st) };
	int err;

	FLOW_OK(self);
	CALL(err = ffpf_flow_iface_stats(self->flow, &st));
	if (err)
		return raise_err(err, "ffpf_flow_iface_stats");
	return Py_BuildValue("{sKsKsKsKsKsKsKsKsKsKsKsKsKsK}", ST(rx_packets), ST(rx_bytes),
			     ST(matched), ST(truncated), ST(malformed), ST(non_ip), ST(missed),
			     ST(deep), ST(tap_redirected), ST(tap_no_socket), ST(tap_meta_fail),
			     ST(copied), ST(copy_lost), ST(monitor_dropped));
}

static PyObject *flow_rx_stats(FlowObject *self, PyObject *unused)
{
	struct ffpf_rx_stats st = { .sz = sizeof(st) };
	int err;

	FLOW_OK(self);
	CALL(err = ffpf_flow_rx_stats(self->flow, &st));
	if (err)
		return raise_err(err, "ffpf_flow_rx_stats");
	return Py_BuildValue("{sKsKsKsKsKsKsKsKsKsKsKsKsKsKsKsKsKsKsK}", ST(received),
			     ST(dropped), ST(released), ST(queued), ST(capacity), ST(mode),
			     ST(snaplen), ST(records), ST(lost), ST(no_frame), ST(frames),
			     ST(frames_in_use), ST(frames_high_water), ST(stored), ST(descs),
			     ST(xsk_rx_dropped), ST(xsk_rx_ring_full), ST(xsk_fill_ring_empty),
			     ST(xsk_rx_invalid));
}

static PyObject *flow_ft_stats(FlowObject *self, PyObject *unused)
{
	struct ffpf_ft_stats st = { .sz = sizeof(st) };
	PyObject *ended, *d;
	int err, i;

	FLOW_OK(self);
	CALL(err = ffpf_ft_stats(self->flow, &st));
	if (err)
		return raise_err(err, "ffpf_ft_stats");
	ended = PyTuple_New(8);
	if (!ended)
		return NULL;
	for (i = 0; i < 8; i++)
		PyTuple_SET_ITEM(ended, i, u64(st.ended[i]));
	d = Py_BuildValue("{sKsKsKsKsKsKsKsN}", ST(live), ST(created), ST(table_full),
			  ST(rst_no_flow), ST(not_ip), ST(records), ST(unindexed),
			  "ended", ended);
	return d;
}
#undef ST

/* --- packets --- */

static int held_reserve(FlowObject *self, int n)
{
	if (n <= self->held_cap)
		return 0;
	PacketObject **h = PyMem_Realloc(self->held, n * sizeof(*h));
	struct ffpf_packet *s = h ? PyMem_Realloc(self->scratch, n * sizeof(*s)) : NULL;

	if (h)
		self->held = h;
	if (!h || !s) {
		PyErr_NoMemory();
		return -1;
	}
	self->scratch = s;
	self->held_cap = n;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* read(max=1, timeout=None): release what was read before, wait up to
 * timeout seconds (None: forever, 0: not at all) for packets, and return
 * up to max of them (an empty list on timeout). */
static PyObject *flow_read(FlowObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "max", "timeout", NULL };
	int max = 1, n, fd, pr, i, saved;
	PyObject *timeout = Py_None, *list;
	double deadline = -1;

	FLOW_OK(self);
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|iO", kwlist, &max, &timeout))
		return NULL;
	if (max < 1) {
		PyErr_SetString(PyExc_ValueError, "max must be >= 1");
		return NULL;
	}
	if (self->inuse) {	/* the C API: one consumer thread per flow */
		PyErr_SetString(PyExc_RuntimeError, "flow is being read by another thread");
		return NULL;
	}
	if (timeout != Py_None) {
		double t = PyFloat_AsDouble(timeout);

		if (t == -1 && PyErr_Occurred())
			return NULL;
		deadline = now_s() + (t > 0 ? t : 0);
	}
	if (flow_release_held(self) < 0 || held_reserve(self, max) < 0)
		return NULL;
	CALL(fd = ffpf_flow_fd(self->flow));
	if (fd < 0)
		return raise_err(fd, "ffpf_flow_fd");
	for (;;) {
		CALL(n = ffpf_flow_peek_batch(self->flow, self->scratch, max));
		if (n < 0)
			return raise_err(n, "ffpf_flow_peek_batch");
		if (n > 0)
			break;
		int ms = 200;	/* wake up for signals (Ctrl-C) */

		if (deadline >= 0) {
			double left = deadline - now_s();

			if (left <= 0)
				return PyList_New(0);
			if (left * 1000 < ms)
				ms = (int)(left * 1000) + 1;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		self->inuse++;
		Py_BEGIN_ALLOW_THREADS
		pr = poll(&pfd, 1, ms);
		saved = errno;
		Py_END_ALLOW_THREADS
		self->inuse--;
		if (pr < 0 && saved != EINTR)
			return raise_err(saved, "poll");
		if (PyErr_CheckSignals() < 0)
			return NULL;
		if (!self->flow) {
			PyErr_SetString(PyExc_ValueError, "flow is closed");
			return NULL;
		}
	}
	list = PyList_New(n);
	if (!list)
		return NULL;
	for (i = 0; i < n; i++) {
		PacketObject *p = PyObject_GC_New(PacketObject, &PacketType);

		if (!p) {
			Py_DECREF(list);
			return NULL;
		}
		p->flow = (FlowObject *)Py_NewRef((PyObject *)self);
		p->pkt = self->scratch[i];
		p->view = NULL;
		p->exports = 0;
		p->slot = i;
		p->valid = 1;
		self->held[i] = p;
		self->nheld = i + 1;
		PyObject_GC_Track(p);
		PyList_SET_ITEM(list, i, (PyObject *)p);
	}
	return list;
}

static PyObject *flow_release(FlowObject *self, PyObject *unused)
{
	FLOW_OK(self);
	if (flow_release_held(self) < 0)
		return NULL;
	Py_RETURN_NONE;
}

/* --- flow tracking --- */

static PyObject *addr_str(const __u8 *a, int ip_ver)
{
	char buf[INET6_ADDRSTRLEN];

	if (ip_ver == 4)
		inet_ntop(AF_INET, a + 12, buf, sizeof(buf));
	else
		inet_ntop(AF_INET6, a, buf, sizeof(buf));
	return PyUnicode_FromString(buf);
}

/* A live or ended flow as a dict, in Peafowl's directions: src is the
 * initiator (side 0 when unknown), "out" what it sent, "in" the replies. */
static PyObject *ft_dict(const struct ffpf_ft_key *k, const struct ffpf_ft_flow *f)
{
	int s = f->initiator == FFPF_FT_INIT_SIDE1 ? 1 : 0;
	/* ICMP's port[] is not per side but type << 8 | code, echo id: as
	 * `ffpf-bpf flows` (and NetFlow), type and code in dport, id in sport */
	int icmp = k->proto == 1 || k->proto == 58;
	int sport = icmp ? k->port[1] : k->port[s], dport = icmp ? k->port[0] : k->port[!s];
	const struct ffpf_ft_side *o = ffpf_ft_dir(f, FFPF_FT_OUTBOUND);
	const struct ffpf_ft_side *i = ffpf_ft_dir(f, FFPF_FT_INBOUND);

	return Py_BuildValue("{sisisNsisNsisisisisIsKsKsKs(KKi)s(KKi)}",
			     "proto", k->proto, "ip_ver", k->ip_ver,
			     "src", addr_str(k->addr[s], k->ip_ver), "sport", sport,
			     "dst", addr_str(k->addr[!s], k->ip_ver), "dport", dport,
			     "initiator", f->initiator, "state", f->state, "fin", f->fin,
			     "id", f->id,
			     "first_ns", (unsigned long long)f->first_ns,
			     "last_ns", (unsigned long long)f->last_ns,
			     "end_ns", (unsigned long long)f->end_ns,
			     "out", (unsigned long long)o->packets, (unsigned long long)o->bytes,
			     o->tcp_flags,
			     "in", (unsigned long long)i->packets, (unsigned long long)i->bytes,
			     i->tcp_flags);
}

static PyObject *record_dict(const struct ffpf_ft_record *r)
{
	PyObject *d = ft_dict(&r->key, &r->flow), *v;

	if (!d)
		return NULL;
	v = Py_BuildValue("i", r->reason);
	if (!v || PyDict_SetItemString(d, "reason", v) < 0)
		goto err;
	Py_DECREF(v);
	v = u64(r->first_real_ns);
	if (!v || PyDict_SetItemString(d, "first_real_ns", v) < 0)
		goto err;
	Py_DECREF(v);
	v = u64(r->last_real_ns);
	if (!v || PyDict_SetItemString(d, "last_real_ns", v) < 0)
		goto err;
	Py_DECREF(v);
	return d;
err:
	Py_XDECREF(v);
	Py_DECREF(d);
	return NULL;
}

/* From the tracker's thread, sweep() or close(): any thread, GIL not held. */
static void on_end_cb(struct ffpf_flow *flow, const struct ffpf_ft_record *rec, void *ctx)
{
	FlowObject *self = ctx;
	PyGILState_STATE g;
	PyObject *fn, *d, *r = NULL;

	if (!Py_IsInitialized())
		return;
	g = PyGILState_Ensure();
	fn = self->on_end;
	if (fn) {
		Py_INCREF(fn);
		d = record_dict(rec);
		if (d) {
			r = PyObject_CallOneArg(fn, d);
			Py_DECREF(d);
		}
		if (!r) {
			if (self->sweep_thread == PyThread_get_thread_ident() && !self->exc_type)
				PyErr_Fetch(&self->exc_type, &self->exc_value, &self->exc_tb);
			else
				PyErr_WriteUnraisable(fn);
		}
		Py_XDECREF(r);
		Py_DECREF(fn);
	}
	PyGILState_Release(g);
}

static PyObject *flow_start_tracking(FlowObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "on_end", "interval_ms", "manual", NULL };
	PyObject *fn = Py_None;
	unsigned int interval = 0;
	int manual = 0, err;

	FLOW_OK(self);
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|OIp", kwlist, &fn, &interval, &manual))
		return NULL;
	if (fn != Py_None && !PyCallable_Check(fn)) {
		PyErr_SetString(PyExc_TypeError, "on_end must be callable or None");
		return NULL;
	}
	/* set before the tracker starts: its thread may end a flow at once */
	PyObject *old = self->on_end;

	self->on_end = fn == Py_None ? NULL : Py_NewRef(fn);
	FFPF_OPTS(ffpf_ft_opts, o, .on_end = on_end_cb, .ctx = self, .interval_ms = interval,
		  .manual = manual);
	CALL(err = ffpf_ft_start(self->flow, &o));
	if (err) {
		Py_XSETREF(self->on_end, old);	/* e.g. -EALREADY: keep the running one's */
		return raise_err(err, "ffpf_ft_start");
	}
	Py_XDECREF(old);
	Py_RETURN_NONE;
}

static PyObject *flow_sweep(FlowObject *self, PyObject *unused)
{
	int n;

	FLOW_OK(self);
	self->sweep_thread = PyThread_get_thread_ident();
	self->inuse++;
	CALL(n = ffpf_ft_sweep(self->flow));
	self->inuse--;
	self->sweep_thread = 0;
	if (self->exc_type) {
		PyErr_Restore(self->exc_type, self->exc_value, self->exc_tb);
		self->exc_type = self->exc_value = self->exc_tb = NULL;
		return NULL;
	}
	if (n < 0)
		return raise_err(n, "ffpf_ft_sweep");
	return PyLong_FromLong(n);
}

struct foreach_ctx {
	PyObject *list;
	int failed;
};

static int foreach_cb(const struct ffpf_ft_key *key, const struct ffpf_ft_flow *f, void *ctx)
{
	struct foreach_ctx *c = ctx;
	PyGILState_STATE g = PyGILState_Ensure();
	PyObject *d = ft_dict(key, f);

	if (!d || PyList_Append(c->list, d) < 0)
		c->failed = 1;
	Py_XDECREF(d);
	PyGILState_Release(g);
	return c->failed;
}

static PyObject *flow_live_flows(FlowObject *self, PyObject *unused)
{
	struct foreach_ctx c = { .list = PyList_New(0) };
	int err;

	FLOW_OK(self);
	if (!c.list)
		return NULL;
	self->inuse++;
	CALL(err = ffpf_ft_foreach(self->flow, foreach_cb, &c));
	self->inuse--;
	if (c.failed) {
		Py_DECREF(c.list);
		return NULL;
	}
	if (err < 0) {
		Py_DECREF(c.list);
		return raise_err(err, "ffpf_ft_foreach");
	}
	return c.list;
}

/* --- MBufs --- */

static size_t cpu_offset(const char *cls)
{
	static const struct { const char *cls; size_t off; } t[] = {
		{ "count", offsetof(struct ffpf_count_mbuf, cpu) },
		{ "match", offsetof(struct ffpf_match_mbuf, cpu) },
		{ "sample", offsetof(struct ffpf_sample_mbuf, cpu) },
		{ "flowtrack", offsetof(struct ffpf_flowtrack_mbuf, cpu) },
		{ "prefixset", offsetof(struct ffpf_prefixset_mbuf, cpu) },
		{ "payload", offsetof(struct ffpf_payload_mbuf, cpu) },
		{ "bpf", offsetof(struct ffpf_bpf_mbuf, cpu) },
		{ "obj", 0 },	/* FFPF_USER_MBUF: counters first */
	};

	for (size_t i = 0; cls && i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].cls, cls))
			return t[i].off;
	return (size_t)-1;
}

static PyObject *flow_mbuf(FlowObject *self, PyObject *args)
{
	MBufObject *m;
	const char *cls;
	size_t size = 0;
	void *mem;
	int idx, err;

	FLOW_OK(self);
	if (!PyArg_ParseTuple(args, "i", &idx))
		return NULL;
	CALL(mem = ffpf_flow_filter_mbuf(self->flow, idx, &size); err = errno;
	     cls = ffpf_flow_filter_class(self->flow, idx));
	if (!mem)
		return raise_err(err, "ffpf_flow_filter_mbuf");
	m = PyObject_New(MBufObject, &MBufType);
	if (!m)
		return NULL;
	m->flow = (FlowObject *)Py_NewRef((PyObject *)self);
	m->mem = mem;
	m->size = size;
	m->idx = idx;
	m->cpu_off = cpu_offset(cls);
	if (m->cpu_off != (size_t)-1 &&
	    m->cpu_off + sizeof(struct ffpf_mbuf_cpu) * FFPF_MBUF_CPUS > size)
		m->cpu_off = (size_t)-1;
	return (PyObject *)m;
}

static PyObject *flow_enter(FlowObject *self, PyObject *unused)
{
	return Py_NewRef((PyObject *)self);
}

static PyObject *flow_exit(FlowObject *self, PyObject *args)
{
	PyObject *r = flow_close(self, NULL);

	if (!r)
		return NULL;
	Py_DECREF(r);
	Py_RETURN_FALSE;
}

static PyObject *flow_filter_class(FlowObject *self, PyObject *args)
{
	const char *s;
	int idx;

	FLOW_OK(self);
	if (!PyArg_ParseTuple(args, "i", &idx))
		return NULL;
	s = ffpf_flow_filter_class(self->flow, idx);
	if (!s) {
		PyErr_Format(PyExc_IndexError, "no filter %d", idx);
		return NULL;
	}
	return PyUnicode_FromString(s);
}

static PyObject *str_or_none(const char *s)
{
	return s ? PyUnicode_FromString(s) : Py_NewRef(Py_None);
}

static PyObject *flow_get_name(FlowObject *self, void *c)
{
	FLOW_OK(self);
	return str_or_none(ffpf_flow_name(self->flow));
}

static PyObject *flow_get_ifname(FlowObject *self, void *c)
{
	FLOW_OK(self);
	return str_or_none(ffpf_flow_ifname(self->flow));
}

static PyObject *flow_get_spec(FlowObject *self, void *c)
{
	FLOW_OK(self);
	return str_or_none(ffpf_flow_spec(self->flow));
}

static PyObject *flow_get_nfilters(FlowObject *self, void *c)
{
	FLOW_OK(self);
	return PyLong_FromLong(ffpf_flow_nfilters(self->flow));
}

static PyObject *flow_get_active(FlowObject *self, void *c)
{
	FLOW_OK(self);
	return PyBool_FromLong(ffpf_flow_is_active(self->flow));
}

static PyObject *flow_get_slot(FlowObject *self, void *c)
{
	FLOW_OK(self);
	return PyLong_FromLong(ffpf_flow_slot(self->flow));
}

static PyObject *flow_get_hook(FlowObject *self, void *c)
{
	FLOW_OK(self);
	return PyLong_FromLong(ffpf_flow_hook(self->flow));
}

static PyObject *flow_get_fd(FlowObject *self, void *c)
{
	int fd;

	FLOW_OK(self);
	CALL(fd = ffpf_flow_fd(self->flow));
	if (fd < 0)
		return raise_err(fd, "ffpf_flow_fd");
	return PyLong_FromLong(fd);
}

static PyObject *flow_get_closed(FlowObject *self, void *c)
{
	return PyBool_FromLong(!self->flow);
}

static PyGetSetDef flow_getset[] = {
	{ "name", (getter)flow_get_name, NULL, NULL, NULL },
	{ "ifname", (getter)flow_get_ifname, NULL, NULL, NULL },
	{ "spec", (getter)flow_get_spec, NULL, "the filters as one spec text", NULL },
	{ "nfilters", (getter)flow_get_nfilters, NULL, NULL, NULL },
	{ "active", (getter)flow_get_active, NULL, NULL, NULL },
	{ "slot", (getter)flow_get_slot, NULL, "bit in Packet.matched, -1 before instantiate", NULL },
	{ "hook", (getter)flow_get_hook, NULL, NULL, NULL },
	{ "fd", (getter)flow_get_fd, NULL, "pollable fd of an rx flow", NULL },
	{ "closed", (getter)flow_get_closed, NULL, NULL, NULL },
	{ NULL }
};

static PyMethodDef flow_methods[] = {
	{ "populate", (PyCFunction)flow_populate, METH_VARARGS, "append the filters of a spec" },
	{ "add_filter", (PyCFunction)flow_add_filter, METH_VARARGS, "append one filter: class, args" },
	{ "instantiate", (PyCFunction)flow_instantiate, METH_NOARGS, "load the chain (starts paused)" },
	{ "activate", (PyCFunction)flow_activate, METH_NOARGS, NULL },
	{ "pause", (PyCFunction)flow_pause, METH_NOARGS, NULL },
	{ "pin", (PyCFunction)flow_pin, METH_NOARGS, NULL },
	{ "close", (PyCFunction)flow_close, METH_NOARGS, "remove the flow (idempotent)" },
	{ "stats", (PyCFunction)flow_stats, METH_NOARGS, "packets, bytes, dispatched, missed" },
	{ "filter_stats", (PyCFunction)flow_filter_stats, METH_VARARGS, "seen, passed, bytes of filter idx" },
	{ "filter_class", (PyCFunction)flow_filter_class, METH_VARARGS, NULL },
	{ "iface_stats", (PyCFunction)flow_iface_stats, METH_NOARGS, NULL },
	{ "rx_stats", (PyCFunction)flow_rx_stats, METH_NOARGS, NULL },
	{ "ft_stats", (PyCFunction)flow_ft_stats, METH_NOARGS, NULL },
	{ "read", (PyCFunction)(void (*)(void))flow_read, METH_VARARGS | METH_KEYWORDS,
	  "read(max=1, timeout=None) -> [Packet]: releases the packets read before" },
	{ "release", (PyCFunction)flow_release, METH_NOARGS, "give back the packets read" },
	{ "start_tracking", (PyCFunction)(void (*)(void))flow_start_tracking,
	  METH_VARARGS | METH_KEYWORDS, "start_tracking(on_end=None, interval_ms=0, manual=False)" },
	{ "sweep", (PyCFunction)flow_sweep, METH_NOARGS, "end what is due now; returns the count" },
	{ "live_flows", (PyCFunction)flow_live_flows, METH_NOARGS, "the live flows, as dicts" },
	{ "mbuf", (PyCFunction)flow_mbuf, METH_VARARGS, "filter idx's mapped MBuf" },
	{ "__enter__", (PyCFunction)flow_enter, METH_NOARGS, NULL },
	{ "__exit__", (PyCFunction)flow_exit, METH_VARARGS, NULL },
	{ NULL }
};

static PyTypeObject FlowType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "ffpf._ffpf.Flow",
	.tp_basicsize = sizeof(FlowObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "Flow(ifname, spec=None, *, name=None, hook=0, rx=0, snaplen=0, "
		  "ibuf_size=0, share=None, pin=False, policy=None, group=None, daemon=None)",
	.tp_new = PyType_GenericNew,
	.tp_init = (initproc)flow_init,
	.tp_dealloc = (destructor)flow_dealloc,
	.tp_traverse = (traverseproc)flow_traverse,
	.tp_clear = (inquiry)flow_clear,
	.tp_weaklistoffset = offsetof(FlowObject, weakreflist),
	.tp_methods = flow_methods,
	.tp_getset = flow_getset,
};

/* --- MBuf ---------------------------------------------------------------- */

static int mbuf_getbuffer(MBufObject *self, Py_buffer *view, int flags)
{
	if (!self->flow->flow) {
		PyErr_SetString(PyExc_ValueError, "flow is closed");
		return -1;
	}
	if (PyBuffer_FillInfo(view, (PyObject *)self, self->mem, self->size, 0, flags) < 0)
		return -1;
	self->flow->exports++;
	return 0;
}

static void mbuf_releasebuffer(MBufObject *self, Py_buffer *view)
{
	self->flow->exports--;
}

static PyBufferProcs mbuf_as_buffer = {
	.bf_getbuffer = (getbufferproc)mbuf_getbuffer,
	.bf_releasebuffer = (releasebufferproc)mbuf_releasebuffer,
};

static PyObject *mbuf_counters(MBufObject *self, PyObject *unused)
{
	struct ffpf_mbuf_hdr h;

	if (!flow_ok(self->flow))
		return NULL;
	if (self->cpu_off == (size_t)-1) {
		PyErr_SetString(PyExc_NotImplementedError,
				"unknown MBuf layout: use Flow.filter_stats()");
		return NULL;
	}
	ffpf_mbuf_sum((const struct ffpf_mbuf_cpu *)((char *)self->mem + self->cpu_off), &h);
	return Py_BuildValue("{sKsKsK}", "seen", (unsigned long long)h.seen,
			     "passed", (unsigned long long)h.passed,
			     "bytes", (unsigned long long)h.bytes);
}

static PyObject *mbuf_get_every(MBufObject *self, void *c)
{
	if (!flow_ok(self->flow))
		return NULL;
	if (strcmp(ffpf_flow_filter_class(self->flow->flow, self->idx) ?: "", "sample")) {
		PyErr_SetString(PyExc_AttributeError, "every: only a sample filter has it");
		return NULL;
	}
	return PyLong_FromUnsignedLong(
		__atomic_load_n(&((struct ffpf_sample_mbuf *)self->mem)->every, __ATOMIC_RELAXED));
}

static int mbuf_set_every(MBufObject *self, PyObject *v, void *c)
{
	unsigned long every;

	if (!flow_ok(self->flow))
		return -1;
	if (!v || strcmp(ffpf_flow_filter_class(self->flow->flow, self->idx) ?: "", "sample")) {
		PyErr_SetString(PyExc_AttributeError, "every: only a sample filter has it");
		return -1;
	}
	every = PyLong_AsUnsignedLong(v);
	if (PyErr_Occurred())
		return -1;
	if (every < 1 || every > 0xffffffffUL) {
		PyErr_SetString(PyExc_ValueError, "every: 1 .. 2**32-1");
		return -1;
	}
	__atomic_store_n(&((struct ffpf_sample_mbuf *)self->mem)->every, (__u32)every,
			 __ATOMIC_RELAXED);
	return 0;
}

static PyObject *mbuf_get_size(MBufObject *self, void *c)
{
	return PyLong_FromSize_t(self->size);
}

static void mbuf_dealloc(MBufObject *self)
{
	Py_CLEAR(self->flow);
	PyObject_Free(self);
}

static PyGetSetDef mbuf_getset[] = {
	{ "every", (getter)mbuf_get_every, (setter)mbuf_set_every,
	  "sample: pass 1 packet in every (writable live)", NULL },
	{ "size", (getter)mbuf_get_size, NULL, "mapped bytes", NULL },
	{ NULL }
};

static PyMethodDef mbuf_methods[] = {
	{ "counters", (PyCFunction)mbuf_counters, METH_NOARGS,
	  "seen, passed, bytes summed over the per-CPU slots, read from the mapping" },
	{ NULL }
};

static PyTypeObject MBufType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "ffpf.MBuf",
	.tp_basicsize = sizeof(MBufObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A filter's memory-mapped MBuf (buffer protocol: the raw mapping).",
	.tp_dealloc = (destructor)mbuf_dealloc,
	.tp_as_buffer = &mbuf_as_buffer,
	.tp_methods = mbuf_methods,
	.tp_getset = mbuf_getset,
};

/* --- module -------------------------------------------------------------- */

static PyObject *mod_version(PyObject *m, PyObject *unused)
{
	return PyUnicode_FromString(ffpf_version());
}

static PyObject *mod_spec_check(PyObject *m, PyObject *args)
{
	const char *spec;
	int n = 0, err;

	if (!PyArg_ParseTuple(args, "s", &spec))
		return NULL;
	CALL(err = ffpf_spec_check(spec, &n));
	if (err)
		return raise_err(err, "ffpf_spec_check");
	return PyLong_FromLong(n);
}

static PyMethodDef mod_methods[] = {
	{ "version", mod_version, METH_NOARGS, "the library's version" },
	{ "spec_check", mod_spec_check, METH_VARARGS, "parse a spec; returns its filter count" },
	{ NULL }
};

static struct PyModuleDef moddef = {
	PyModuleDef_HEAD_INIT, .m_name = "ffpf._ffpf",
	.m_doc = "CPython binding of libffpfbpf (see the ffpf package)",
	.m_size = -1, .m_methods = mod_methods,
};

PyMODINIT_FUNC PyInit__ffpf(void)
{
	PyObject *m;

	if (PyType_Ready(&FlowType) < 0 || PyType_Ready(&PacketType) < 0 ||
	    PyType_Ready(&MBufType) < 0)
		return NULL;
	m = PyModule_Create(&moddef);
	if (!m)
		return NULL;
	FfpfError = PyErr_NewExceptionWithDoc("ffpf.Error",
		"A libffpfbpf call failed: .errno, .function (the C function) and "
		".message (what the library printed)", PyExc_OSError, NULL);
	if (!FfpfError || PyModule_AddObjectRef(m, "Error", FfpfError) < 0 ||
	    PyModule_AddObjectRef(m, "Flow", (PyObject *)&FlowType) < 0 ||
	    PyModule_AddObjectRef(m, "Packet", (PyObject *)&PacketType) < 0 ||
	    PyModule_AddObjectRef(m, "MBuf", (PyObject *)&MBufType) < 0)
		goto err;
#define C(N) if (PyModule_AddIntConstant(m, #N, N) < 0) goto err
	C(FFPF_HOOK_INGRESS); C(FFPF_HOOK_EGRESS);
	C(FFPF_RX_NONE); C(FFPF_RX_COPY); C(FFPF_RX_TAP);
	C(FFPF_FT_END_IDLE); C(FFPF_FT_END_ACTIVE); C(FFPF_FT_END_FIN); C(FFPF_FT_END_RST);
	C(FFPF_FT_END_EVICTED); C(FFPF_FT_END_FORCED); C(FFPF_FT_END_CLOSED);
	C(FFPF_FT_INIT_SIDE0); C(FFPF_FT_INIT_SIDE1); C(FFPF_FT_INIT_UNKNOWN);
	C(FFPF_FT_OUTBOUND); C(FFPF_FT_INBOUND);
	C(FFPF_SNAPLEN_DEFAULT); C(FFPF_IBUF_DEFAULT); C(FFPF_MAX_FLOWS);
#undef C
	ffpf_set_print(print_fn);
	return m;
err:
	Py_DECREF(m);
	return NULL;
}
