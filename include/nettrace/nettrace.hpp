// nettrace/nettrace.hpp — everything nettrace offers.
#pragma once

#include <nettrace/address.hpp>
#include <nettrace/context.hpp>
#include <nettrace/dial.hpp>
#include <nettrace/dns_resolver.hpp>
#include <nettrace/error.hpp>
#include <nettrace/export.hpp>
#include <nettrace/options.hpp>
#include <nettrace/proxy.hpp>
#include <nettrace/recorder.hpp>
#include <nettrace/resolver.hpp>
#include <nettrace/timings.hpp>
#include <nettrace/trace.hpp>
#include <nettrace/unix.hpp>
