// Backtest: a backtest job, then the server-rendered report.
document.addEventListener('DOMContentLoaded', () => {
  const progress = document.getElementById('backtest-progress');
  FL.onSubmit(document.getElementById('backtest-form'), async (form) => {
    const v = FL.formValues(form);
    progress.replaceChildren();
    document.getElementById('backtest-result').replaceChildren();
    const job = await FL.runJob('backtest', {
      model_type: v.model_type,
      store_id: Number(v.store_id),
      product_id: Number(v.product_id),
      start_date: v.start_date,
      end_date: v.end_date,
      n_splits: v.n_splits,
      test_size: v.test_size,
      gap: v.gap,
      min_train_size: v.min_train_size,
      include_baselines: v.include_baselines,
    }, `Backtesting ${v.model_type}`, progress);
    await htmx.ajax('GET', `/ui/backtest/result?job_id=${job.job_id}`, {
      target: '#backtest-result',
      swap: 'innerHTML',
    });
  });
});
