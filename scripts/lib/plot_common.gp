# Shared settings of the imcore benchmark plots (loaded by plot_*.gp).
# Parameters, from bench_report.py: libdir (this directory), fmt ('svg' or
# 'png'), out (file name), and per series (space-separated, in block order)
# colors (1-based index into C) and points (gnuplot point types).
set encoding utf8
if (fmt eq 'svg') {
    set terminal svg size 1200,620 dynamic enhanced font 'Helvetica,13' background rgb 'white'
} else {
    set terminal pngcairo size 1200,620 enhanced font 'Helvetica,11' background rgb 'white'
}
set output out
set grid xtics ytics lc rgb '#dddddd' lw 1
set border lw 1.2
set key below center horizontal maxcols 2 width -2 font ',10' samplen 2 spacing 1.05 height 1
set style data linespoints
set pointsize 1.0
# Colour per backend or peer (bench_report.py assigns them).
array C[10] = ['#1b6ca8', '#d1495b', '#2e933c', '#edae49', '#6a4c93', '#00798c', '#8d6a9f', '#c05805', '#444444', '#b0b0b0']
col(i) = C[(int(word(colors, i + 1)) - 1) % 10 + 1]
pt(i) = int(word(points, i + 1))
