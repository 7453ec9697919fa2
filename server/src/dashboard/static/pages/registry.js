// Registry: comparing two ticked runs and pointing an alias at a run.
document.addEventListener('DOMContentLoaded', () => {
  const status = document.getElementById('compare-status');
  document.getElementById('compare-button').addEventListener('click', () => {
    const ticked = [...document.querySelectorAll('#runs input[name="compare"]:checked')]
      .map((box) => box.value);
    if (ticked.length !== 2) {
      status.textContent = `Tick exactly two runs (${ticked.length} ticked).`;
      return;
    }
    status.textContent = '';
    htmx.ajax('GET', `/ui/registry/compare/${ticked[0]}/${ticked[1]}`, {
      target: '#compare',
      swap: 'innerHTML',
    });
  });

  // The alias form arrives with each run's detail, so listen on the page.
  document.addEventListener('submit', async (event) => {
    const form = event.target.closest('.alias-form');
    if (!form) return;
    event.preventDefault();
    const output = form.querySelector('output');
    const { alias_name, description } = FL.formValues(form);
    try {
      const alias = await FL.api('POST', '/registry/aliases', {
        alias_name,
        run_id: form.dataset.run,
        description,
      });
      output.textContent = `${alias.alias_name} now points at this run.`;
      htmx.trigger(document.body, 'aliases-changed');
    } catch (error) {
      output.textContent = error.message;
    }
  });
});
