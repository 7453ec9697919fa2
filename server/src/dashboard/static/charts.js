// Draws the chart specs that the server embeds in <figure data-chart>
// elements with uPlot, and offers each chart as PNG and as CSV.
// Mounted charts are kept in window.forecastlabCharts[id] = {spec, plot,
// png(), csv()}: what the download buttons save, for scripts and tests.
(() => {
  'use strict';

  const HEIGHT = 300;
  const DAY = 86400;
  const charts = (window.forecastlabCharts = {});

  const alpha = (hex, a) => {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
  };
  const epoch = (day) => Date.parse(`${day}T00:00:00Z`) / 1000;
  const isoDay = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 10);

  function xValues(spec) {
    return spec.x_kind === 'date' ? spec.x.map(epoch) : spec.x.map((_, i) => i);
  }

  function seriesOptions(s, categories) {
    const base = {
      label: s.label,
      stroke: s.colour,
      scale: s.axis === 'right' ? 'y2' : 'y',
      width: 2,
      spanGaps: false,
      points: { show: categories, size: 8, fill: s.colour },
      value: (u, v) => (v == null ? '—' : Number(v.toFixed(3)).toString()),
    };
    switch (s.style) {
      case 'dashed':
        return { ...base, dash: [8, 4] };
      case 'points':
        return { ...base, width: 0, paths: () => null, points: { show: true, size: 7, fill: s.colour, stroke: s.colour } };
      case 'thick':
        return { ...base, width: 8, points: { show: false } };
      case 'band_edge':
        return { ...base, width: 1, dash: [2, 3], stroke: alpha(s.colour, 0.8), points: { show: false } };
      default:
        return base;
    }
  }

  /** Shades the spans (e.g. holidays) behind the series. */
  function drawSpans(u, spec) {
    if (!spec.spans.length || spec.x_kind !== 'date') return;
    const { ctx, bbox } = u;
    ctx.save();
    for (const span of spec.spans) {
      const x0 = u.valToPos(epoch(span.start) - DAY / 2, 'x', true);
      const x1 = u.valToPos(epoch(span.end) + DAY / 2, 'x', true);
      ctx.fillStyle = alpha(span.colour, 0.3);
      ctx.fillRect(x0, bbox.top, Math.max(x1 - x0, 1), bbox.height);
    }
    ctx.restore();
  }

  function options(spec, width) {
    const categories = spec.x_kind === 'category';
    const xs = xValues(spec);
    const axes = [
      categories
        ? { splits: () => xs, values: (u, splits) => splits.map((i) => spec.x[i] ?? '') }
        : {},
      { scale: 'y', label: spec.y_label },
    ];
    const scales = {
      x: categories ? { time: false, range: [-0.5, Math.max(xs.length - 0.5, 0.5)] } : { time: true },
    };
    if (spec.y2_label) {
      axes.push({ scale: 'y2', label: spec.y2_label, side: 1, grid: { show: false } });
      scales.y2 = { auto: true };
    }
    return {
      width,
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales,
      axes,
      legend: { show: spec.series.length <= 12 },
      series: [
        { label: categories ? 'bucket' : 'date', value: (u, v) => (v == null ? '—' : categories ? spec.x[v] : isoDay(v)) },
        ...spec.series.map((s) => seriesOptions(s, categories)),
      ],
      bands: spec.bands.map((b) => ({
        series: [b.upper + 1, b.lower + 1],
        fill: alpha(spec.series[b.upper].colour, 0.2),
      })),
      hooks: { drawClear: [(u) => drawSpans(u, spec)] },
    };
  }

  function csv(spec) {
    const quote = (v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    const header = [spec.x_kind === 'date' ? 'date' : 'category', ...spec.series.map((s) => s.label)];
    const rows = spec.x.map((x, i) => [x, ...spec.series.map((s) => (s.values[i] == null ? '' : String(s.values[i])))]);
    return [header, ...rows].map((row) => row.map(quote).join(',')).join('\n') + '\n';
  }

  function save(blob, name) {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  /** The plot canvas with a white background, the title and a legend. */
  function png(spec, plot) {
    const source = plot.ctx.canvas;
    const scale = source.width / plot.width;
    const line = 22 * scale;
    const legend = spec.series.length <= 12 ? spec.series : [];
    const out = document.createElement('canvas');
    out.width = source.width;
    out.height = source.height + line * (2 + Math.ceil(legend.length / 3));
    const ctx = out.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.fillStyle = '#000000';
    ctx.font = `bold ${14 * scale}px sans-serif`;
    ctx.fillText(spec.title, 8 * scale, line * 0.8);
    ctx.drawImage(source, 0, line);
    ctx.font = `${12 * scale}px sans-serif`;
    legend.forEach((s, i) => {
      const x = 8 * scale + (i % 3) * (out.width / 3);
      const y = source.height + line * (1.6 + Math.floor(i / 3));
      ctx.fillStyle = s.colour;
      ctx.fillRect(x, y - 9 * scale, 14 * scale, 10 * scale);
      ctx.fillStyle = '#000000';
      ctx.fillText(s.label, x + 20 * scale, y);
    });
    for (const [label, colour] of new Map(spec.spans.map((s) => [s.label, s.colour]))) {
      const y = out.height - line * 0.4;
      ctx.fillStyle = alpha(colour, 0.3);
      ctx.fillRect(8 * scale, y - 9 * scale, 14 * scale, 10 * scale);
      ctx.fillStyle = '#000000';
      ctx.fillText(`shaded: ${label}`, 28 * scale, y);
    }
    return out;
  }

  function mount(figure) {
    if (figure.dataset.mounted) return;
    figure.dataset.mounted = 'true';
    const spec = JSON.parse(figure.querySelector('script[type="application/json"]').textContent);
    const target = figure.querySelector('.chart-canvas');
    const data = [xValues(spec), ...spec.series.map((s) => s.values)];
    const plot = new uPlot(options(spec, target.clientWidth || 800), data, target);
    charts[spec.id] = { spec, plot, png: () => png(spec, plot).toDataURL('image/png'), csv: () => csv(spec) };
    const labels = [...new Map(spec.spans.map((s) => [s.label, s.colour]))];
    if (labels.length) {
      const note = document.createElement('p');
      note.className = 'chart-note';
      for (const [label, colour] of labels) {
        const swatch = document.createElement('span');
        swatch.className = 'swatch';
        swatch.style.background = alpha(colour, 0.3);
        note.append(swatch, ` shaded: ${label} `);
      }
      target.after(note);
    }
    new ResizeObserver(() => {
      const width = target.clientWidth;
      if (width && width !== plot.width) plot.setSize({ width, height: HEIGHT });
    }).observe(target);
    figure.querySelector('[data-download="png"]').addEventListener('click', () => {
      png(spec, plot).toBlob((blob) => save(blob, `${spec.id}.png`), 'image/png');
    });
    figure.querySelector('[data-download="csv"]').addEventListener('click', () => {
      save(new Blob([csv(spec)], { type: 'text/csv' }), `${spec.id}.csv`);
    });
  }

  htmx.onLoad((element) => {
    const figures = element.matches?.('figure[data-chart]')
      ? [element]
      : element.querySelectorAll?.('figure[data-chart]') || [];
    figures.forEach(mount);
  });
})();
