// Go's net.Dialer against the slow-AAAA DNS server: how long one dial of
// slow6.test:PORT takes when the AAAA answer is late. Loopback only.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	dns, target := os.Args[1], os.Args[2]
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", dns)
	}}
	d := net.Dialer{Resolver: r, Timeout: 10 * time.Second}
	start := time.Now()
	c, err := d.Dial("tcp", target)
	elapsed := time.Since(start)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Printf("go: connected to %s in %.1f ms\n", c.RemoteAddr(), float64(elapsed.Microseconds())/1000)
	c.Close()
}
