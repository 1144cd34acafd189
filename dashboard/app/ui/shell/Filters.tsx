/** Filters are a GET form: every filter lives in the URL (shareable, back-button friendly). */
export function Filters({ fields }: { fields: { name: string; label: string; value: string; options: { value: string; label: string }[] }[] }) {
  return (
    <form className="filters" method="get">
      {fields.map((f) => (
        <label key={f.name}>
          {f.label}
          <select name={f.name} defaultValue={f.value}>
            {f.options.some((o) => o.value === f.value) ? null : <option value={f.value}>{f.value}</option>}
            {f.options.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
      ))}
      <button type="submit">Apply</button>
    </form>
  );
}
