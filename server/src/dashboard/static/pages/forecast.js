// Forecast: a train job, then a predict job on its registry run, then the
// server-rendered result.
document.addEventListener('DOMContentLoaded', () => {
  const progress = document.getElementById('forecast-progress');
  FL.onSubmit(document.getElementById('forecast-form'), async (form) => {
    const v = FL.formValues(form);
    progress.replaceChildren();
    document.getElementById('forecast-result').replaceChildren();
    const train = await FL.runJob('train', {
      model_type: v.model_type,
      store_id: Number(v.store_id),
      product_id: Number(v.product_id),
      start_date: v.start_date,
      end_date: v.end_date,
    }, `Training ${v.model_type}`, progress);
    const predict = await FL.runJob('predict', {
      run_id: train.result.run_id,
      horizon: v.horizon,
      interval_level: Number(v.interval_level),
    }, 'Forecasting', progress);
    await htmx.ajax('GET', `/ui/forecast/result?job_id=${predict.job_id}`, {
      target: '#forecast-result',
      swap: 'innerHTML',
    });
  });
});
