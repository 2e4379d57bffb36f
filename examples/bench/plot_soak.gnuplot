# Plots a soak run (examples/bench/soak.sh writes the TSV) into one PNG:
# throughput and p99 over time above, each member's RSS and data-directory
# disk use below. Run from the repository root:
#   gnuplot -e "data='/tmp/bench-soak.tsv'; out='docs/bench-soak.png'; note='...'" examples/bench/plot_soak.gnuplot
# (note: a second title line, e.g. when and how long; soak.sh fills it in)
# TSV columns: t_s ops_per_sec p50_us p99_us errors rss_mib_0..2 disk_mib_0..2 loadavg
# (Debian: apt-get install gnuplot-nox; the build does not need gnuplot.)

if (!exists("data")) data = "/tmp/bench-soak.tsv"
if (!exists("out")) out = "docs/bench-soak.png"
if (!exists("note")) note = ""
set datafile separator "\t"
set datafile commentschars "#"

set terminal pngcairo size 900,760 font "DejaVu Sans,10"
set output out
set multiplot layout 2,1 title "Soak: 3 members (processes), durable, 64 clients, snapshots on\n".note
set grid
set key bottom right
set xlabel "seconds into the measured window"

set ylabel "operations per second"
set y2label "p99 (ms)"
set yrange [0:*]
set y2range [0:*]
set ytics nomirror
set y2tics
plot data using 1:2 with lines lw 2 lc 1 title "throughput (per interval)", \
     data using 1:($4/1000) axes x1y2 with lines lw 1 lc 7 dt 2 title "p99 (right axis)"

unset y2label
unset y2tics
set ytics mirror
set ylabel "MiB"
set key bottom right horizontal maxrows 2
plot data using 1:6  with lines lw 2 lc 2 title "RSS member 1", \
     data using 1:7  with lines lw 2 lc 3 title "RSS member 2", \
     data using 1:8  with lines lw 2 lc 4 title "RSS member 3", \
     data using 1:9  with lines lw 2 lc 2 dt 2 title "disk member 1", \
     data using 1:10 with lines lw 2 lc 3 dt 2 title "disk member 2", \
     data using 1:11 with lines lw 2 lc 4 dt 2 title "disk member 3"
unset multiplot
