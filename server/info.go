package server

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// infoSections are INFO's sections, in the order "INFO" and "INFO all"
// print them.
var infoSections = []struct {
	name  string
	write func(c *conn, b *strings.Builder)
}{
	{"server", infoServer}, {"clients", infoClients}, {"memory", infoMemory},
	{"persistence", infoPersistence}, {"stats", infoStats}, {"keyspace", infoKeyspace}, {"tiers", infoTiers},
}

// cmdInfo serves INFO [section ...]: Redis's text format; "all",
// "everything" and "default" (or none) name every section, an unknown one
// adds nothing.
func cmdInfo(c *conn, args [][]byte) {
	want := map[string]bool{}
	for _, a := range args[1:] {
		want[lowerString(a)] = true
	}
	all := len(want) == 0 || want["all"] || want["everything"] || want["default"]
	var b strings.Builder
	for _, s := range infoSections {
		if !all && !want[s.name] {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		fmt.Fprintf(&b, "# %s%s\r\n", strings.ToUpper(s.name[:1]), s.name[1:])
		s.write(c, &b)
	}
	c.out.verbatim(b.String())
}

func infoServer(c *conn, b *strings.Builder) {
	up := time.Since(c.s.started)
	fmt.Fprintf(b, "redis_version:%s\r\nserver_name:tiermem\r\nredis_mode:standalone\r\nos:%s %s\r\narch_bits:64\r\n",
		redisVersion, runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(b, "go_version:%s\r\nprocess_id:%d\r\ntcp_port:%s\r\nuptime_in_seconds:%d\r\nuptime_in_days:%d\r\n",
		runtime.Version(), os.Getpid(), c.localPort(), int64(up.Seconds()), int64(up.Hours()/24))
}

func infoClients(c *conn, b *strings.Builder) {
	c.s.mu.Lock()
	n := c.s.clientCount
	c.s.mu.Unlock()
	fmt.Fprintf(b, "connected_clients:%d\r\nmaxclients:%d\r\n", n, c.s.maxClients.Load())
}

func infoMemory(c *conn, b *strings.Builder) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var tiers int64
	for _, t := range c.s.m.Usage() {
		tiers += t.Used
	}
	fmt.Fprintf(b, "used_memory:%d\r\nused_memory_go_heap:%d\r\nused_memory_go_sys:%d\r\ntiers_used_bytes:%d\r\n",
		ms.HeapAlloc, ms.HeapAlloc, ms.Sys, tiers)
}

func infoStats(c *conn, b *strings.Builder) {
	fmt.Fprintf(b, "total_connections_received:%d\r\nrejected_connections:%d\r\n", c.s.accepted.Load(), c.s.rejected.Load())
}

func infoKeyspace(c *conn, b *strings.Builder) {
	if n, err := c.s.m.Len(); err == nil && n > 0 {
		fmt.Fprintf(b, "db0:keys=%d,expires=%d\r\n", n, c.s.m.Expiring())
	}
}

// infoTiers is tiermem's own section: per tier, what it holds and what
// moved in and out of it since the Manager opened.
func infoTiers(c *conn, b *strings.Builder) {
	u, s := c.s.m.Usage(), c.s.m.Stats()
	for _, t := range tierNames {
		fmt.Fprintf(b, "%s:used=%d,capacity=%d,percent=%.2f,items=%d,promotions=%d,demotions=%d,evictions=%d,expirations=%d,held=%d,streaming=%d\r\n",
			t, u[t].Used, u[t].Capacity, u[t].Percent, u[t].Items,
			s.Tiers[t].Promotions, s.Tiers[t].Demotions, s.Tiers[t].Evictions, s.Tiers[t].Expirations, u[t].Held, u[t].Streaming)
	}
	fmt.Fprintf(b, "migration_passes:%d\r\nmigration_failed_passes:%d\r\n", s.Passes, s.FailedPasses)
}

// localPort is the port the connection came in on.
func (c *conn) localPort() string {
	addr := c.nc.LocalAddr().String()
	return addr[strings.LastIndexByte(addr, ':')+1:]
}
