// Overview: seeding a preset through POST /seeder/generate.
document.addEventListener('DOMContentLoaded', () => {
  const status = document.getElementById('seed-status');
  FL.onSubmit(document.getElementById('seed-form'), async (form) => {
    const { scenario, seed } = FL.formValues(form);
    status.textContent = `Seeding ${scenario}…`;
    try {
      const result = await FL.api('POST', '/seeder/generate', { scenario, seed });
      status.textContent = result.message || 'Seeded.';
      htmx.trigger(document.body, 'seeded');
    } catch (error) {
      status.textContent = 'Seeding failed.';
      throw error;
    }
  });
});
