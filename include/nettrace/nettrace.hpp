// nettrace/nettrace.hpp — everything nettrace offers.
#pragma once

#include <nettrace/address.hpp>
#include <nettrace/context.hpp>
#include <nettrace/dial.hpp>
#include <nettrace/dns_resolver.hpp>
#include <nettrace/error.hpp>
#include <nettrace/options.hpp>
#include <nettrace/resolver.hpp>
#include <nettrace/trace.hpp>
