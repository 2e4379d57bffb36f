// putload: closed-loop put load on an etcd v3 cluster through clientv3
// (gRPC), for the comparison in docs/benchmarks.md. Built by ../run.sh from
// Debian packages only (golang-go, golang-etcd-server-dev; GOPATH mode).
//
// Each of --clients workers sends a put (--key-size-byte key drawn from
// --keys keys, --size-byte value), waits for the reply and repeats; the
// workers share --conns connections. Like raft-bench, only replies that
// arrive inside the measured window (--seconds after --warmup) count.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
)

type options struct {
	endpoints []string
	clients   int
	conns     int
	seconds   float64
	warmup    float64
	size      int
	keySize   int
	keys      int
	timeout   time.Duration
	format    string
	members   int
	metrics   string
}

// What one worker saw inside the measured window.
type tally struct {
	latencies []time.Duration
	errors    int
}

func parse() options {
	var o options
	endpoints := flag.String("endpoints", "127.0.0.1:2379", "comma-separated client URLs (host:port) to dial")
	flag.IntVar(&o.clients, "clients", 1, "concurrent closed-loop workers")
	flag.IntVar(&o.conns, "conns", 1, "gRPC connections shared by the workers")
	flag.Float64Var(&o.seconds, "seconds", 5, "measured seconds")
	flag.Float64Var(&o.warmup, "warmup", 1, "seconds of load before the measured window")
	flag.IntVar(&o.size, "size", 256, "value bytes")
	flag.IntVar(&o.keySize, "key-size", 8, "key bytes")
	flag.IntVar(&o.keys, "keys", 100000, "distinct keys")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Second, "per-put timeout (a timed-out put is an error)")
	flag.StringVar(&o.format, "format", "text", "text (raft-bench's summary), json (raft-bench's JSON keys) or line (key=value, one line)")
	flag.IntVar(&o.members, "members", 3, "members in the cluster (reported only)")
	flag.StringVar(&o.metrics, "metrics", "", "the leader's Prometheus URL (http://host:port/metrics): report its WAL fdatasyncs during the run")
	flag.Parse()
	o.endpoints = strings.Split(*endpoints, ",")
	if o.clients < 1 || o.conns < 1 || o.seconds <= 0 || o.warmup < 0 || o.size < 0 || o.keySize < 1 || o.keys < 1 {
		fmt.Fprintln(os.Stderr, "putload: --clients, --conns, --seconds, --key-size and --keys must be positive")
		os.Exit(2)
	}
	if o.conns > o.clients {
		o.conns = o.clients
	}
	return o
}

// percentile of sorted latencies in microseconds (nearest rank).
func percentile(sorted []time.Duration, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i].Microseconds()
}

// The leader's counters that show its batching: WAL fdatasyncs (count and
// seconds) and committed proposals, from etcd's Prometheus text endpoint.
type walCounters struct {
	fsyncs, fsyncSeconds, committed float64
}

func scrape(url string) (walCounters, error) {
	var w walCounters
	resp, err := http.Get(url)
	if err != nil {
		return w, err
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		if len(f) != 2 {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "etcd_disk_wal_fsync_duration_seconds_count":
			w.fsyncs = v
		case "etcd_disk_wal_fsync_duration_seconds_sum":
			w.fsyncSeconds = v
		case "etcd_server_proposals_committed_total":
			w.committed = v
		}
	}
	return w, lines.Err()
}

func main() {
	o := parse()
	conns := make([]*clientv3.Client, o.conns)
	for i := range conns {
		c, err := clientv3.New(clientv3.Config{Endpoints: o.endpoints, DialTimeout: 5 * time.Second})
		if err != nil {
			fmt.Fprintln(os.Stderr, "putload: connect:", err)
			os.Exit(1)
		}
		defer c.Close()
		conns[i] = c
	}
	value := strings.Repeat("v", o.size)
	// One put first: the cluster must answer before the clock starts.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err := conns[0].Put(ctx, "putload-ready", value)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "putload: first put:", err)
		os.Exit(1)
	}

	var before walCounters
	if o.metrics != "" {
		if before, err = scrape(o.metrics); err != nil {
			fmt.Fprintln(os.Stderr, "putload: metrics:", err)
			os.Exit(1)
		}
	}
	begin := time.Now()
	from := begin.Add(time.Duration(o.warmup * float64(time.Second)))
	until := from.Add(time.Duration(o.seconds * float64(time.Second)))
	tallies := make([]tally, o.clients)
	var wg sync.WaitGroup
	for w := 0; w < o.clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := conns[w%len(conns)]
			rng := rand.New(rand.NewSource(int64(w) + 1))
			t := &tallies[w]
			for {
				start := time.Now()
				if !start.Before(until) {
					return
				}
				key := fmt.Sprintf("%0*d", o.keySize, rng.Intn(o.keys))
				ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
				_, err := c.Put(ctx, key, value)
				cancel()
				end := time.Now()
				if end.Before(from) || end.After(until) {
					continue
				}
				if err != nil {
					t.errors++
				} else {
					t.latencies = append(t.latencies, end.Sub(start))
				}
			}
		}(w)
	}
	wg.Wait()

	// Over the whole run, warm-up included.
	var wal walCounters
	if o.metrics != "" {
		after, err := scrape(o.metrics)
		if err != nil {
			fmt.Fprintln(os.Stderr, "putload: metrics:", err)
			os.Exit(1)
		}
		wal = walCounters{after.fsyncs - before.fsyncs, after.fsyncSeconds - before.fsyncSeconds,
			after.committed - before.committed}
	}
	fsyncMeanUs, perFsync := 0.0, 0.0
	if wal.fsyncs > 0 {
		fsyncMeanUs = 1e6 * wal.fsyncSeconds / wal.fsyncs
		perFsync = wal.committed / wal.fsyncs
	}

	var all []time.Duration
	errors := 0
	for _, t := range tallies {
		all = append(all, t.latencies...)
		errors += t.errors
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	ops := float64(len(all)) / o.seconds
	p50, p90, p99, p999 := percentile(all, 0.5), percentile(all, 0.9), percentile(all, 0.99), percentile(all, 0.999)

	switch o.format {
	case "json":
		out, _ := json.Marshal(map[string]interface{}{
			"system": "etcd", "members": o.members, "mode": "processes", "fsync": true,
			"clients": o.clients, "conns": o.conns, "size": o.size, "seconds": o.seconds,
			"warmup": o.warmup, "ops": len(all), "errors": errors, "ops_per_sec": int64(ops + 0.5),
			"p50_us": p50, "p90_us": p90, "p99_us": p99, "p999_us": p999,
			"leader_wal_fsyncs": int64(wal.fsyncs), "leader_wal_fsync_mean_us": int64(fsyncMeanUs + 0.5),
			"leader_entries_per_fsync": perFsync,
		})
		fmt.Println(string(out))
	case "line":
		ms := func(us int64) float64 { return float64(us) / 1000 }
		fmt.Printf("clients=%d conns=%d ops=%d errs=%d ops/s=%.0f p50=%.2fms p90=%.2fms p99=%.2fms p99.9=%.2fms\n",
			o.clients, o.conns, len(all), errors, ops, ms(p50), ms(p90), ms(p99), ms(p999))
	default:
		fmt.Printf("putload: %d etcd members, %d clients over %d connections, %d-byte values, fsync on (etcd's default), %.1f s measured after %.1f s warm-up\n",
			o.members, o.clients, o.conns, o.size, o.seconds, o.warmup)
		fmt.Printf("  throughput  %.0f ops/s (%d ops, %d errors)\n", ops, len(all), errors)
		fmt.Printf("  latency     p50 %d us, p90 %d us, p99 %d us, p99.9 %d us\n", p50, p90, p99, p999)
		if wal.fsyncs > 0 {
			fmt.Printf("  leader      %.0f WAL fdatasyncs, mean %.0f us, %.1f entries committed per fdatasync (warm-up included)\n",
				wal.fsyncs, fsyncMeanUs, perFsync)
		}
	}
}
