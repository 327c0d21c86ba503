// nettrace-dial: resolves an address, races its IPs with RFC 8305 Happy
// Eyeballs through nettrace::dial, and shows what happened, either as a
// timeline with a waterfall (like httpstat) or as one JSON object per event,
// and optionally writes the dials to a Chrome trace or an SVG waterfall.
//
//   nettrace-dial [options] [NETWORK] ADDRESS
//   nettrace-dial [options] unix PATH
//   nettrace-dial --demo [--json] [--trace-json FILE] [--svg FILE]
//
// This file is the program: a run from its command line to its exit status.
// The parts: cli.hpp (the command line), session.hpp (one dial, run_dials),
// report.hpp and timeline.hpp (the output), demo.hpp (--demo). The recording
// and the file formats are the library's (recorder.hpp, export.hpp).

#include "cli.hpp"
#include "demo.hpp"
#include "report.hpp"
#include "session.hpp"
#include "text.hpp"
#include "timeline.hpp"

#include <nettrace/dial.hpp>
#include <nettrace/export.hpp>
#include <nettrace/tls.hpp>
#include <nettrace/version.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nettrace::tool {

namespace {

namespace asio = boost::asio;

// The file that --trace-json or --svg names.
class output_file {
public:
    // Opened before dialing: a mistyped path should fail at once, not after
    // a dial that may take the whole --timeout.
    output_file(std::string option, std::string path) : option_(std::move(option)), path_(std::move(path)) {
        stream_.open(path_, std::ios::out | std::ios::trunc | std::ios::binary);
        if (!stream_) throw std::runtime_error(what("cannot open for writing", errno));
    }

    /// Writes with `write`, then reports whether it all reached the file.
    template <class Write>
    bool save(Write&& write) {
        errno = 0;
        write(stream_);
        stream_.close();
        if (stream_.fail()) {
            std::cerr << program << ": " << what("cannot write", errno) << '\n';
            return false;
        }
        return true;
    }

private:
    std::string what(std::string_view doing, int err) const {
        std::string text = option_ + " " + path_ + ": " + std::string(doing);
        if (err) text += ": " + std::string(std::strerror(err));
        return text;
    }

    std::string option_, path_;
    std::ofstream stream_;
};

int run(const command_line& cl) {
    std::optional<output_file> trace_json, svg;
    if (!cl.trace_json_path.empty()) trace_json.emplace("--trace-json", cl.trace_json_path);
    if (!cl.svg_path.empty()) svg.emplace("--svg", cl.svg_path);

    asio::io_context io(1);
    std::optional<demo_peers> demo;  // after `io`, so destroyed before it
    std::string address = cl.address;
    nettrace::dial_options options = cl.options;
    options.single_threaded = true;  // `io` runs on this thread alone
    // One history for the run's dials (--count, --repeat): the second dial
    // learns from the first, as a long-lived client would.
    if (cl.history) options.history = std::make_shared<nettrace::connection_history>();

    if (cl.demo) {
        demo = start_demo_peers(io.get_executor());
        address = aim_at_demo(*demo, options);
    } else if (cl.network != "unix") {  // a unix dial resolves nothing
        options.resolver = make_resolver(cl);
    }
    const nettrace::dialer dialer(std::move(options));

    if (demo)  // stdout carries only JSON lines under --json
        print_demo_intro(cl.format == output_format::json ? std::cerr : std::cout, *demo, dialer.options());

    dial_kind kind;
    kind.unix_socket = cl.network == "unix";
    std::optional<asio::ssl::context> tls;
    if (cl.tls) {
        tls.emplace(asio::ssl::context::tls_client);
        boost::system::error_code ec;
        if (!cl.cafile.empty())
            tls->load_verify_file(cl.cafile, ec);
        else
            tls->set_default_verify_paths(ec);
        if (ec) throw usage_error("--cafile " + quoted(std::string_view(cl.cafile)) + ": " + ec.message());
        kind.tls.emplace(*tls, cl.tls_options, dialer);
    }
    const bool sequential = cl.repeat > 1;  // --repeat; --count dials at once
    const unsigned dials = sequential ? cl.repeat : cl.count;
    const auto out = cl.format == output_format::json
                         ? make_json_reporter(std::cout)
                         : make_timeline_reporter(std::cout, dials, sequential, utf8_locale());
    const auto sessions = run_dials(io, dialer, kind, cl.network, address, dials, sequential, *out);

    bool ok = std::all_of(sessions.begin(), sessions.end(), [](const auto& s) { return s->ok(); });
    if (demo && !demo_reached_live(*demo, sessions)) ok = false;

    if (trace_json || svg) {
        std::vector<nettrace::dial_record> records;
        for (const auto& s : sessions) records.push_back(s->record());
        if (trace_json && !trace_json->save([&](std::ostream& f) { nettrace::write_chrome_trace(f, records); }))
            ok = false;
        if (svg && !svg->save([&](std::ostream& f) { nettrace::write_svg_waterfall(f, records); })) ok = false;
    }
    return ok ? 0 : 1;
}

}  // namespace

}  // namespace nettrace::tool

int main(int argc, char** argv) {
    using namespace nettrace::tool;
    try {
        std::vector<std::string_view> args;
        for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
        const command_line cl = parse_command_line(args);
        if (cl.help) {
            std::cout << usage_text;
            return 0;
        }
        if (cl.version) {
            std::cout << program << " " << NETTRACE_VERSION_STRING << '\n';
            return 0;
        }
        return run(cl);
    } catch (const usage_error& e) {
        std::cerr << program << ": " << e.what() << "\nTry '" << program << " --help' for more information.\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << program << ": " << e.what() << '\n';
        return 1;
    }
}
