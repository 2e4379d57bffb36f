# Turns docs/bench-results.tsv (written by examples/bench/run_matrix.sh) into
# the PNGs of docs/benchmarks.md. Run from the repository root:
#   gnuplot docs/plot_benchmarks.gnuplot
# (Debian: apt-get install gnuplot-nox; the build does not need gnuplot.)
# Rows: system members mode fsync clients ops_per_sec p50_us p90_us p99_us p999_us loadavg

data = "docs/bench-results.tsv"
sel(sys, n) = sprintf("< awk -F'\t' '$1==\"%s\" && $2==%d && $3==\"processes\" && $4==\"durable\"' %s", sys, n, data)

set terminal pngcairo size 900,560 font "DejaVu Sans,10"
set grid
set logscale x 2
set xrange [0.8:320]
set xtics (1, 4, 16, 64, 256)
set key top left

set output "docs/bench-throughput.png"
set title "Durable puts/s against closed-loop clients (256-byte values, 127.0.0.1, 2 cores)"
set xlabel "clients"
set ylabel "operations per second"
set yrange [0:*]
plot sel("caf-raft", 3) using 5:6 with linespoints lw 2 pt 7 lc 1 title "caf-raft, 3 members", \
     sel("caf-raft", 5) using 5:6 with linespoints lw 2 pt 6 lc 1 dt 2 title "caf-raft, 5 members", \
     sel("caf-raft-snap10k", 3) using 5:6 with linespoints lw 1 pt 9 lc 4 title "caf-raft, 3 members, snapshot every 10,000 entries", \
     sel("etcd", 3)     using 5:6 with linespoints lw 2 pt 5 lc 2 title "etcd 3.4, 3 members", \
     sel("etcd", 5)     using 5:6 with linespoints lw 2 pt 4 lc 2 dt 2 title "etcd 3.4, 5 members"

set output "docs/bench-latency.png"
set title "Durable put latency against clients, 3 members (p50 solid, p99 dashed)"
set ylabel "latency (ms, log scale)"
set logscale y 10
set yrange [*:*]
plot sel("caf-raft", 3) using 5:($7/1000) with linespoints lw 2 pt 7 lc 1 title "caf-raft p50", \
     sel("caf-raft", 3) using 5:($9/1000) with linespoints lw 2 pt 7 lc 1 dt 2 title "caf-raft p99", \
     sel("caf-raft-snap10k", 3) using 5:($9/1000) with linespoints lw 1 pt 9 lc 4 dt 2 title "caf-raft p99, snapshot every 10,000 entries", \
     sel("etcd", 3)     using 5:($7/1000) with linespoints lw 2 pt 5 lc 2 title "etcd p50", \
     sel("etcd", 3)     using 5:($9/1000) with linespoints lw 2 pt 5 lc 2 dt 2 title "etcd p99"
