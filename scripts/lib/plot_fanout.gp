# Cost per message against fan-out, per backend and peer (log-log).
# Parameters: libdir, fmt, out; send/total (data files from bench_report.py,
# one block per series with a quoted title line), nsend/ntotal (block
# counts), colors/points and colors2/points2 (styles of the two panels),
# xmax (largest fan-out), body (the body size shown).
load libdir.'/plot_common.gp'
set multiplot layout 1,2 title sprintf('imcore: CPU time per message against fan-out (body %s)', body) font ',14'
set logscale x 2
set logscale y 10
set format y '10^{%L}'
set xrange [0.8:xmax * 1.25]
set xtics (1, 2, 4, 8, 32, 128, 1024)
set xlabel 'recipient devices per message (log scale)'
set ylabel 'CPU time per message (µs, log scale)'
set title 'Sender: imcore encrypt vs peer send'
plot for [i=0:nsend-1] send index i using 1:2 title columnheader(2) lc rgb col(i) pt pt(i) lw 1.6
colors = colors2
points = points2
set title 'End to end: sender + fan-out + every device decrypts'
plot for [i=0:ntotal-1] total index i using 1:2 title columnheader(2) lc rgb col(i) pt pt(i) lw 1.6
unset multiplot
