// dialloop: Go's side of benchmarks/go/compare.sh. Dials a loopback listener
// over and over with net.Dialer, one dial at a time, closing each connection
// at once with SO_LINGER 0 as nettrace-bench --loop does; prints dials per
// second. It dials only the 127.0.0.0/8 or ::1 address it is given.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "", "IP:PORT of a loopback listener")
	dials := flag.Int("dials", 20000, "dials to time")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintln(os.Stderr, "dialloop: -addr must be a loopback IP:PORT")
		os.Exit(2)
	}
	var d net.Dialer
	dial := func() {
		c, err := d.Dial("tcp", *addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dialloop:", err)
			os.Exit(1)
		}
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}
	for i := 0; i < 200; i++ { // warm up, as nettrace-bench does
		dial()
	}
	start := time.Now()
	for i := 0; i < *dials; i++ {
		dial()
	}
	fmt.Printf("%.0f\n", float64(*dials)/time.Since(start).Seconds())
}
