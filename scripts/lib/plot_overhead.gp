# Overhead ratio (core path CPU time / sum of its primitive floors).
# Parameters: libdir, fmt, out; enc/dec (data files: the ratio of medians),
# encb/decb (the same blocks, best-of-repetitions ratios) and best (1 to
# draw them), nenc/ndec (block counts), colors/points and colors2/points2,
# xmax (largest fan-out), ymin, ymax, body (encrypt body size shown), target.
load libdir.'/plot_common.gp'
set multiplot layout 1,2 title (best ? 'imcore: overhead over the primitive floor (solid: medians; dotted: best of repetitions)' : 'imcore: overhead over the primitive floor (ratio of medians)') font ',14'
set logscale x 2
set xrange [0.8:xmax * 1.25]
set xtics (1, 2, 4, 8, 32, 128, 1024)
set xlabel 'recipient devices (log scale)'
set ylabel 'CPU time / sum of primitive floors'
set yrange [ymin:ymax]
set title sprintf('encrypt, body %s', body)
plot for [i=0:nenc-1] enc index i using 1:2 title columnheader(2) lc rgb col(i) pt pt(i) lw 1.6, \
     for [i=0:(best ? nenc-1 : -1)] encb index i using 1:2 with lines dt 3 lw 1.4 lc rgb col(i) notitle, \
     target with lines dt 2 lw 1.5 lc rgb '#cc0000' title sprintf('target %.2f', target)
colors = colors2
points = points2
set xrange [48:22000]
set xtics (64, 1024, 16384)
set xlabel 'body bytes (log scale)'
set title 'decrypt (one device)'
plot for [i=0:ndec-1] dec index i using 1:2 title columnheader(2) lc rgb col(i) pt pt(i) lw 1.6, \
     for [i=0:(best ? ndec-1 : -1)] decb index i using 1:2 with lines dt 3 lw 1.4 lc rgb col(i) notitle, \
     target with lines dt 2 lw 1.5 lc rgb '#cc0000' title sprintf('target %.2f', target)
unset multiplot
