# Thread scaling of encrypt and decrypt: throughput and efficiency.
# Parameters: libdir, fmt, out; tp/eff (data files), n (block count),
# colors/points, maxt (largest thread count measured).
load libdir.'/plot_common.gp'
set multiplot layout 1,2 title 'imcore: thread scaling (suite 1, 8 devices for encrypt, 1 KiB body; wall clock)' font ',14'
set xlabel 'threads'
set xrange [0.8:maxt + 0.2]
set xtics 1
set ylabel 'messages per second'
set yrange [0:*]
set title 'throughput'
plot for [i=0:n-1] tp index i using 1:2 title columnheader(2) lc rgb col(i) pt pt(i) lw 1.6
set ylabel 'efficiency = throughput(T) / (T × throughput(1))'
set yrange [0:1.2]
set title 'scaling efficiency'
plot for [i=0:n-1] eff index i using 1:2 title columnheader(2) lc rgb col(i) pt pt(i) lw 1.6, \
     1 with lines dt 2 lc rgb '#888888' title 'ideal'
unset multiplot
