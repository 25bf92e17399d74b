// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cpp_count: built by tests/integration/test_cpp.sh against the *installed*
 * headers (ffpf/ffpf.hpp) and library via pkg-config, as C++17 with
 * -pedantic -Werror. On IFNAME it counts ICMP echo requests (a statistics
 * flow, read from the flow and from its mapped MBuf) and receives the UDP
 * datagrams to PORT (a copy-mode flow, packets through ffpf::flow::run).
 * Prints "ready", and on SIGINT/SIGTERM one line:
 *   echo_requests=N echo_bytes=M mbuf_packets=N mbuf_bytes=M udp_packets=N udp_bytes=M
 */
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <ffpf/ffpf.hpp>

static volatile std::sig_atomic_t stop;

int main(int argc, char **argv)
{
	if (argc != 3) {
		std::cerr << "usage: " << argv[0] << " IFNAME UDP_PORT\n";
		return 2;
	}
	const std::string ifname = argv[1];
	const std::string port = argv[2];
	try {
		auto eo = ffpf::opts<ffpf_flow_opts>();
		eo.name = "echo";
		ffpf::flow echo(ifname, eo, "match(icmp, icmp-type 8) -> count");
		echo.instantiate();

		auto uo = ffpf::opts<ffpf_flow_opts>();
		uo.name = "udp";
		uo.rx = FFPF_RX_COPY;
		ffpf::flow udp(ifname, uo, "match(udp, dst port " + port + ")");
		udp.instantiate();

		echo.activate();
		udp.activate();
		auto *cnt = echo.mbuf<ffpf_count_mbuf>(1);

		std::signal(SIGINT, [](int) { stop = 1; });
		std::signal(SIGTERM, [](int) { stop = 1; });
		std::cout << "ready" << std::endl;

		unsigned long long udp_packets = 0, udp_bytes = 0;
		while (!stop)
			udp.run([&](const ffpf_packet &p) {
				udp_packets++;
				udp_bytes += p.wire_len;
				return !stop;
			}, 100);
		// what is still queued arrived before the stop (an lvalue callable)
		auto drain = [&](const ffpf_packet &p) {
			udp_packets++;
			udp_bytes += p.wire_len;
			return true;
		};
		udp.run(drain, 0);

		const struct ffpf_flow_stats st = echo.stats();
		const ffpf_mbuf_hdr sum = ffpf::mbuf_sum(cnt);
		std::cout << "echo_requests=" << st.packets << " echo_bytes=" << st.bytes
			  << " mbuf_packets=" << sum.passed << " mbuf_bytes=" << sum.bytes
			  << " udp_packets=" << udp_packets << " udp_bytes=" << udp_bytes
			  << std::endl;
	} catch (const ffpf::error &e) {
		std::cerr << "cpp_count: " << e.what() << ": " << e.code().message() << "\n";
		return 1;
	}
	return 0;
}
