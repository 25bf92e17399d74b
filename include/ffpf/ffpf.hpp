/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ffpf/ffpf.hpp - a thin, header-only C++17 wrapper over <ffpf/ffpf.h>.
 *
 * ffpf::flow owns a struct ffpf_flow (closed in its destructor, movable,
 * not copyable); every failing call throws ffpf::error, a std::system_error
 * carrying the errno and the name of the C function. Nothing is hidden:
 * get() hands out the C handle for the rest of the C API.
 *
 *	auto o = ffpf::opts<ffpf_flow_opts>();
 *	o.name = "dns";
 *	ffpf::flow f("eth0", o);
 *	f.populate("match(udp, dst port 53) -> count");
 *	f.instantiate();
 *	f.activate();
 *	std::cout << f.stats().packets << "\n";
 *
 * Build: c++ -std=c++17 app.cpp $(pkg-config --cflags --libs libffpfbpf)
 */
#ifndef FFPF_FFPF_HPP
#define FFPF_FFPF_HPP

#include <cerrno>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <ffpf/ffpf.h>

namespace ffpf {

/* A failed call: code() is the errno, what() names the C function. */
class error : public std::system_error {
public:
	error(int err, const std::string &what)
		: std::system_error(err < 0 ? -err : err, std::generic_category(), what) {}
};

/* A sized options struct, zeroed, .sz set: what FFPF_OPTS does in C. */
template <class T> T opts()
{
	T o{};
	o.sz = sizeof(T);
	return o;
}

namespace detail {
inline int check(int ret, const char *what)
{
	if (ret < 0)
		throw error(ret, what);
	return ret;
}
} // namespace detail

class flow {
public:
	flow(const std::string &ifname, const ffpf_flow_opts &o)
		: f_(ffpf_flow_create(ifname.c_str(), &o))
	{
		if (!f_)
			throw error(errno, "ffpf_flow_create");
	}
	explicit flow(const std::string &ifname)
		: flow(ifname, opts<ffpf_flow_opts>()) {}
	flow(const std::string &ifname, const ffpf_flow_opts &o, const std::string &spec)
		: flow(ifname, o) { populate(spec); }

	flow(const flow &) = delete;
	flow &operator=(const flow &) = delete;
	flow(flow &&other) noexcept : f_(std::exchange(other.f_, nullptr)) {}
	flow &operator=(flow &&other) noexcept
	{
		if (this != &other) {
			ffpf_flow_close(f_);
			f_ = std::exchange(other.f_, nullptr);
		}
		return *this;
	}
	~flow() { ffpf_flow_close(f_); }

	/* Close now (the destructor then does nothing). */
	void close() noexcept { ffpf_flow_close(std::exchange(f_, nullptr)); }

	void populate(const std::string &spec)
	{
		detail::check(ffpf_flow_populate(f_, spec.c_str()), "ffpf_flow_populate");
	}
	void instantiate() { detail::check(ffpf_flow_instantiate(f_), "ffpf_flow_instantiate"); }
	void activate() { detail::check(ffpf_flow_activate(f_), "ffpf_flow_activate"); }
	void pause() { detail::check(ffpf_flow_pause(f_), "ffpf_flow_pause"); }

	std::string name() const { return ffpf_flow_name(f_); }
	std::string spec() const { return ffpf_flow_spec(f_); }
	int nfilters() const { return ffpf_flow_nfilters(f_); }
	bool active() const { return ffpf_flow_is_active(f_); }
	int fd() const { return detail::check(ffpf_flow_fd(f_), "ffpf_flow_fd"); }

	struct ffpf_flow_stats stats() const
	{
		auto st = opts<struct ffpf_flow_stats>();
		detail::check(ffpf_flow_stats(f_, &st), "ffpf_flow_stats");
		return st;
	}
	ffpf_mbuf_hdr filter_stats(int idx) const
	{
		ffpf_mbuf_hdr h{};
		detail::check(ffpf_flow_filter_stats(f_, idx, &h), "ffpf_flow_filter_stats");
		return h;
	}
	ffpf_rx_stats rx_stats() const
	{
		auto st = opts<ffpf_rx_stats>();
		detail::check(ffpf_flow_rx_stats(f_, &st), "ffpf_flow_rx_stats");
		return st;
	}
	/* Filter @idx's mapped MBuf as the class's struct (ffpf/mbuf.h), e.g.
	 * mbuf<ffpf_count_mbuf>(1); valid until the flow is closed. */
	template <class M> M *mbuf(int idx)
	{
		void *p = ffpf_flow_filter_mbuf(f_, idx, nullptr);
		if (!p)
			throw error(errno, "ffpf_flow_filter_mbuf");
		return static_cast<M *>(p);
	}

	/*
	 * Call @fn(const ffpf_packet &) for every packet (.rx flows) until
	 * @timeout_ms passes without a stop; @fn returns true to go on, false
	 * to stop. pkt.data is valid during the call only. Returns false when
	 * @fn stopped, true on timeout; throws on an error.
	 */
	template <class F> bool run(F &&fn, int timeout_ms)
	{
		using Fn = std::remove_reference_t<F>;
		struct ffpf_flow *fl = f_;
		auto cb = [](struct ffpf_flow *, const struct ffpf_packet *pkt, void *ctx) -> int {
			return (*static_cast<Fn *>(ctx))(*pkt) ? 0 : 1;
		};
		int ret = ffpf_flows_run(&fl, 1, cb, const_cast<void *>(
			static_cast<const void *>(&fn)), timeout_ms);
		if (ret == -EINTR)
			return true;
		detail::check(ret, "ffpf_flows_run");
		return ret == 0;
	}

	struct ffpf_flow *get() const noexcept { return f_; }
	/* Give up ownership: the caller closes the returned handle. */
	struct ffpf_flow *release() noexcept { return std::exchange(f_, nullptr); }

private:
	struct ffpf_flow *f_;
};

/* Summed counters of a mapped MBuf's per-CPU slots. */
template <class M> ffpf_mbuf_hdr mbuf_sum(const M *m)
{
	ffpf_mbuf_hdr h{};
	ffpf_mbuf_sum(m->cpu, &h);
	return h;
}

} // namespace ffpf

#endif /* FFPF_FFPF_HPP */
