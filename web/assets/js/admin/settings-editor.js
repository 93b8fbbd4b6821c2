/**
 * A form for the display settings, built from their JSON Schema
 * (`GET /api/v1/admin/settings/schema`), so every setting the server defines gets a typed field.
 *
 * Each top-level section of the document (screensaver, wallart, cinema, display, filter, …)
 * becomes a fieldset. A setting becomes a checkbox, a number field with the schema's bounds, a
 * select for a fixed set of values, or a text field with its maximum length. A list of names
 * gets one line per entry, a list of time windows a row per entry, and anything else JSON text. The setting's description is the field's hint, and a server error for it appears
 * beside it.
 *
 * In full mode the editor contains a whole settings document. In partial mode, for the overrides
 * of a profile or group, each field has an "Override" checkbox: only checked fields are part
 * of the document, and unchecking one returns it to the inherited value, which the field then
 * shows read-only.
 */

/**
 * Section titles by key, in the order of the form; other sections follow with their key as
 * the title. The schema lists its properties in alphabetical order.
 */
const SECTION_TITLES = {
  screensaver: 'Screensaver',
  wallart: 'Wallart',
  cinema: 'Cinema',
  display: 'Screen care and sleep',
  filter: 'Filter',
  filter_rules: 'Filter by time of day',
};

/** Words written differently from their key. */
const WORDS = { qr: 'QR', '4k': '4K', hdr: 'HDR', ms: 'ms', id: 'ID' };

/** Unit suffixes of keys, shown in brackets after the label. */
const UNITS = [
  ['_seconds', 'seconds'],
  ['_ms', 'milliseconds'],
  ['_days', 'days'],
  ['_hour', 'hour, 0 to 23'],
];

/** Returns a label for a setting's key, such as "Interval (seconds)" for `interval_seconds`. */
export function labelFor(key) {
  let name = key;
  let unit = null;
  for (let i = 0; i < UNITS.length; i += 1) {
    const suffix = UNITS[i][0];
    if (name.length > suffix.length && name.slice(-suffix.length) === suffix) {
      name = name.slice(0, -suffix.length);
      unit = UNITS[i][1];
      break;
    }
  }
  const words = name.split('_').map(function spell(word) {
    return WORDS[word] || word;
  });
  let text = words.join(' ');
  text = text.charAt(0).toUpperCase() + text.slice(1);
  return unit ? text + ' (' + unit + ')' : text;
}

/** Returns a schema description as plain text: no Markdown code marks or links, one line. */
function plainText(text) {
  return String(text || '')
    .replace(/\[`?([^\]`]+)`?\]/g, '$1')
    .replace(/`/g, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/** Returns the value at the dotted `path` of `source`, or undefined. */
export function getPath(source, path) {
  const keys = path.split('.');
  let current = source;
  for (let i = 0; i < keys.length; i += 1) {
    if (current === null || typeof current !== 'object' || !(keys[i] in current)) {
      return undefined;
    }
    current = current[keys[i]];
  }
  return current;
}

/** Sets the value at the dotted `path` of `target`, creating objects along the way. */
export function setPath(target, path, value) {
  const keys = path.split('.');
  let current = target;
  for (let i = 0; i < keys.length - 1; i += 1) {
    if (current[keys[i]] === null || typeof current[keys[i]] !== 'object') {
      current[keys[i]] = {};
    }
    current = current[keys[i]];
  }
  current[keys[keys.length - 1]] = value;
}

function copy(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

function element(tag, attributes, text) {
  const node = document.createElement(tag);
  Object.keys(attributes || {}).forEach(function setAttribute(name) {
    const value = attributes[name];
    if (value !== null && value !== undefined && value !== false) {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  });
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** Follows a `$ref` into `$defs`, keeping the referring property's own description. */
function resolve(root, property) {
  if (!property || typeof property.$ref !== 'string') {
    return property || {};
  }
  const name = property.$ref.replace('#/$defs/', '');
  const target = (root.$defs && root.$defs[name]) || {};
  const merged = Object.assign({}, target, property);
  delete merged.$ref;
  if (!property.description && target.description) {
    merged.description = target.description;
  }
  return merged;
}

function types(property) {
  if (Array.isArray(property.type)) {
    return property.type;
  }
  return property.type ? [property.type] : [];
}

/** Returns the allowed values of an enumerated property, or null when it has no fixed set. */
function choices(property) {
  if (Array.isArray(property.enum)) {
    return property.enum.slice();
  }
  if (Array.isArray(property.oneOf)) {
    const values = [];
    for (let i = 0; i < property.oneOf.length; i += 1) {
      const option = property.oneOf[i];
      if (option.const !== undefined) {
        values.push(option.const);
      } else if (Array.isArray(option.enum)) {
        option.enum.forEach(function add(value) { values.push(value); });
      } else {
        return null;
      }
    }
    return values;
  }
  return null;
}

/** Returns whether every property of an object schema is a plain string, such as a time. */
function flatStrings(property) {
  const properties = property.properties;
  if (!properties) {
    return false;
  }
  return Object.keys(properties).every(function isString(key) {
    const kinds = types(properties[key]);
    return kinds.length === 1 && kinds[0] === 'string';
  });
}

/** Returns the kind of control for a resolved property. */
function controlKind(root, property) {
  const kinds = types(property);
  if (choices(property)) {
    return 'choice';
  }
  if (kinds.indexOf('boolean') !== -1) {
    return 'boolean';
  }
  if (kinds.indexOf('integer') !== -1 || kinds.indexOf('number') !== -1) {
    return 'number';
  }
  if (kinds.indexOf('string') !== -1) {
    return 'text';
  }
  if (kinds.indexOf('array') !== -1) {
    const items = resolve(root, property.items);
    if (choices(items)) {
      return 'choice-list';
    }
    if (types(items).indexOf('string') !== -1) {
      return 'lines';
    }
    if (flatStrings(items)) {
      return 'rows';
    }
  }
  return 'json';
}

/** Returns the section keys with the known sections first, in the order of SECTION_TITLES. */
function sectionOrder(keys) {
  const known = Object.keys(SECTION_TITLES);
  const rank = function rankOf(key) {
    const index = known.indexOf(key);
    return index === -1 ? known.length : index;
  };
  return keys.slice().sort(function compare(left, right) {
    const byRank = rank(left) - rank(right);
    if (byRank !== 0) {
      return byRank;
    }
    return left.localeCompare(right);
  });
}

function idFor(prefix, path) {
  return prefix + '-' + path.replace(/[^a-zA-Z0-9]+/g, '-');
}

/** One setting's controls and how to read and write them. */
class Field {
  constructor(editor, path, property) {
    this.editor = editor;
    this.path = path;
    this.property = property;
    this.kind = controlKind(editor.schema, property);
    this.id = idFor(editor.prefix, path);
    this.nullable = types(property).indexOf('null') !== -1;
    this.overridden = true;
    this.inputs = [];
    this.rowsList = null;
    this.container = element('div', { class: 'field setting', 'data-path': path });
  }

  render() {
    const key = this.path.split('.').pop();
    const label = labelFor(key);
    const described = this.id + '-hint ' + this.id + '-error';
    this.container.setAttribute('data-kind', this.kind);

    if (this.editor.partial) {
      const row = element('div', { class: 'check-row override' });
      this.overrideBox = element('input', { type: 'checkbox', id: this.id + '-override' });
      row.appendChild(this.overrideBox);
      row.appendChild(element('label', { for: this.id + '-override' }, 'Override: ' + label));
      this.container.appendChild(row);
    }

    switch (this.kind) {
      case 'boolean': {
        const row = element('div', { class: 'check-row' });
        const box = element('input', { type: 'checkbox', id: this.id, 'aria-describedby': described });
        row.appendChild(box);
        row.appendChild(element('label', { for: this.id }, label));
        this.container.appendChild(row);
        this.inputs.push(box);
        break;
      }
      case 'choice': {
        this.container.appendChild(element('label', { for: this.id }, label));
        const select = element('select', { id: this.id, 'aria-describedby': described });
        choices(this.property).forEach(function addOption(value) {
          select.appendChild(element('option', { value: value }, labelFor(String(value))));
        });
        this.container.appendChild(select);
        this.inputs.push(select);
        break;
      }
      case 'number': {
        this.container.appendChild(element('label', { for: this.id }, label));
        const integer = types(this.property).indexOf('integer') !== -1;
        const input = element('input', {
          type: 'number',
          id: this.id,
          inputmode: integer ? 'numeric' : 'decimal',
          min: this.property.minimum,
          max: this.property.maximum,
          step: integer ? 1 : 'any',
          placeholder: this.nullable ? 'Not set' : null,
          'aria-describedby': described,
        });
        this.container.appendChild(input);
        this.inputs.push(input);
        break;
      }
      case 'text': {
        this.container.appendChild(element('label', { for: this.id }, label));
        const input = element('input', {
          type: 'text',
          id: this.id,
          maxlength: this.property.maxLength,
          placeholder: this.nullable ? 'Not set' : null,
          autocomplete: 'off',
          spellcheck: 'false',
          'aria-describedby': described,
        });
        this.container.appendChild(input);
        this.inputs.push(input);
        break;
      }
      case 'choice-list': {
        const group = element('fieldset', { class: 'choice-list', id: this.id, 'aria-describedby': described });
        group.appendChild(element('legend', {}, label));
        const self = this;
        choices(resolve(this.editor.schema, this.property.items)).forEach(function addChoice(value) {
          const row = element('div', { class: 'check-row' });
          const box = element('input', { type: 'checkbox', id: self.id + '-' + value, value: value });
          row.appendChild(box);
          row.appendChild(element('label', { for: self.id + '-' + value }, labelFor(String(value))));
          group.appendChild(row);
          self.inputs.push(box);
        });
        this.container.appendChild(group);
        break;
      }
      case 'lines': {
        this.container.appendChild(element('label', { for: this.id }, label + ', one per line'));
        const area = element('textarea', {
          id: this.id,
          rows: 3,
          spellcheck: 'false',
          'aria-describedby': described,
        });
        this.container.appendChild(area);
        this.inputs.push(area);
        break;
      }
      case 'rows': {
        this.renderRows(label, described);
        break;
      }
      default: {
        this.container.appendChild(element('label', { for: this.id }, label + ' (JSON)'));
        const area = element('textarea', {
          id: this.id,
          rows: 4,
          spellcheck: 'false',
          class: 'code',
          'aria-describedby': described,
        });
        this.container.appendChild(area);
        this.inputs.push(area);
      }
    }

    this.container.appendChild(element('p', { id: this.id + '-hint', class: 'hint' }, this.hint()));
    const error = element('p', { id: this.id + '-error', class: 'field-error', hidden: true });
    this.container.appendChild(error);
    return this.container;
  }

  hint() {
    const parts = [plainText(this.property.description)];
    const property = this.property;
    if (property.minimum !== undefined && property.maximum !== undefined) {
      parts.push('From ' + property.minimum + ' to ' + property.maximum + '.');
    }
    if (property.maxItems !== undefined) {
      parts.push('At most ' + property.maxItems + ' entries.');
    }
    if (this.kind === 'json') {
      parts.push('Write a JSON list, such as []; the server checks each entry when you save.');
    }
    return parts.filter(Boolean).join(' ');
  }

  /** Renders a list of objects whose fields are texts, such as sleep windows, one row per entry. */
  renderRows(label, described) {
    const group = element('fieldset', { class: 'rows', id: this.id, 'aria-describedby': described });
    group.appendChild(element('legend', {}, label));
    this.rowsList = element('div', { class: 'row-list' });
    group.appendChild(this.rowsList);
    const add = element('button', { type: 'button', class: 'secondary inline' }, 'Add an entry');
    const self = this;
    add.addEventListener('click', function addRow() {
      self.addRow({});
      self.announceChange();
      const inputs = self.rowsList.lastChild.querySelectorAll('input');
      if (inputs.length) {
        inputs[0].focus();
      }
    });
    group.appendChild(add);
    this.addButton = add;
    this.container.appendChild(group);
  }

  addRow(value) {
    const items = resolve(this.editor.schema, this.property.items);
    const keys = Object.keys(items.properties);
    const index = this.rowsList.children.length;
    const row = element('div', { class: 'entry' });
    const self = this;
    keys.forEach(function addInput(key) {
      const id = self.id + '-' + index + '-' + key;
      const cell = element('div', { class: 'entry-field' });
      cell.appendChild(element('label', { for: id }, labelFor(key)));
      const pattern = items.properties[key].pattern;
      cell.appendChild(element('input', {
        type: 'text',
        id: id,
        'data-key': key,
        value: typeof value[key] === 'string' ? value[key] : '',
        placeholder: pattern && pattern.indexOf(':') !== -1 ? 'HH:MM' : null,
        inputmode: pattern && pattern.indexOf(':') !== -1 ? 'numeric' : null,
        autocomplete: 'off',
      }));
      row.appendChild(cell);
    });
    const remove = element('button', {
      type: 'button',
      class: 'secondary inline',
      'aria-label': 'Remove entry ' + (index + 1),
    }, 'Remove');
    remove.addEventListener('click', function removeRow() {
      row.remove();
      // The focus was on the removed button, so it moves to the list's add button.
      self.addButton.focus();
      self.announceChange();
    });
    row.appendChild(remove);
    this.rowsList.appendChild(row);
    if (this.overridden === false) {
      this.setEnabled(false);
    }
  }

  /** Sends a `change` event from the field, as an edited input would, for the page's checks. */
  announceChange() {
    this.container.dispatchEvent(new Event('change', { bubbles: true }));
  }

  write(value) {
    switch (this.kind) {
      case 'boolean':
        this.inputs[0].checked = value === true;
        break;
      case 'choice':
      case 'text':
        this.inputs[0].value = value === null || value === undefined ? '' : String(value);
        break;
      case 'number':
        this.inputs[0].value = typeof value === 'number' ? String(value) : '';
        break;
      case 'choice-list': {
        const selected = Array.isArray(value) ? value : [];
        this.inputs.forEach(function check(box) { box.checked = selected.indexOf(box.value) !== -1; });
        break;
      }
      case 'lines':
        this.inputs[0].value = Array.isArray(value) ? value.join('\n') : '';
        break;
      case 'rows': {
        while (this.rowsList.firstChild) {
          this.rowsList.removeChild(this.rowsList.firstChild);
        }
        const self = this;
        (Array.isArray(value) ? value : []).forEach(function addEntry(entry) {
          self.addRow(entry && typeof entry === 'object' ? entry : {});
        });
        break;
      }
      default:
        this.inputs[0].value = JSON.stringify(value === undefined ? null : value, null, 2);
    }
  }

  /**
   * Returns `{value}` with the field's value, or `{error}` with a message when the text
   * cannot be read. Range checks are left to the server, whose messages name the limits.
   */
  read() {
    switch (this.kind) {
      case 'boolean':
        return { value: this.inputs[0].checked };
      case 'choice':
        return { value: this.inputs[0].value };
      case 'text': {
        const text = this.inputs[0].value;
        return { value: this.nullable && text.trim() === '' ? null : text };
      }
      case 'number': {
        const input = this.inputs[0];
        const text = input.value.trim();
        if (text === '') {
          if (input.validity && input.validity.badInput) {
            return { error: 'Enter a number.' };
          }
          return this.nullable ? { value: null } : { error: 'Enter a number.' };
        }
        const number = Number(text);
        if (!isFinite(number)) {
          return { error: 'Enter a number.' };
        }
        if (types(this.property).indexOf('integer') !== -1 && Math.floor(number) !== number) {
          return { error: 'Enter a whole number.' };
        }
        return { value: number };
      }
      case 'choice-list':
        return {
          value: this.inputs.filter(function isChecked(box) { return box.checked; })
            .map(function valueOf(box) { return box.value; }),
        };
      case 'lines':
        return {
          value: this.inputs[0].value.split('\n')
            .map(function trim(line) { return line.trim(); })
            .filter(function notEmpty(line) { return line !== ''; }),
        };
      case 'rows': {
        const entries = [];
        const rows = this.rowsList.children;
        for (let i = 0; i < rows.length; i += 1) {
          const entry = {};
          const inputs = rows[i].querySelectorAll('input');
          for (let j = 0; j < inputs.length; j += 1) {
            entry[inputs[j].getAttribute('data-key')] = inputs[j].value.trim();
          }
          entries.push(entry);
        }
        return { value: entries };
      }
      default:
        try {
          return { value: JSON.parse(this.inputs[0].value) };
        } catch (error) {
          return { error: 'Invalid JSON: ' + error.message + '.' };
        }
    }
  }

  setEnabled(enabled) {
    const controls = this.container.querySelectorAll('input, select, textarea, button');
    for (let i = 0; i < controls.length; i += 1) {
      if (controls[i] !== this.overrideBox) {
        controls[i].disabled = !enabled;
      }
    }
    this.container.classList.toggle('inherited', !enabled);
  }

  setOverridden(overridden) {
    this.overridden = overridden;
    if (this.overrideBox) {
      this.overrideBox.checked = overridden;
    }
    this.setEnabled(overridden);
  }

  setError(text) {
    const message = document.getElementById(this.id + '-error');
    message.textContent = text || '';
    message.hidden = !text;
    const target = document.getElementById(this.id);
    if (target) {
      if (text) {
        target.setAttribute('aria-invalid', 'true');
      } else {
        target.removeAttribute('aria-invalid');
      }
    }
  }

  focus() {
    const target = this.container.querySelector('input:not([disabled]), select, textarea');
    if (target) {
      target.focus();
    }
  }
}

export class SettingsEditor {
  /**
   * @param {HTMLElement} container element that receives the fieldsets
   * @param {object} schema the settings' JSON Schema
   * @param {object} options
   * @param {string} options.prefix prefix of the element ids, unique on the page
   * @param {boolean} [options.partial] edit an override document instead of a whole one
   * @param {function(): void} [options.onChange] runs after every edit
   */
  constructor(container, schema, options) {
    this.container = container;
    this.schema = schema;
    this.prefix = options.prefix;
    this.partial = options.partial === true;
    this.onChange = options.onChange || function ignoreChange() {};
    this.fields = [];
    /** The document last written: a whole document, or the inherited one in partial mode. */
    this.base = {};
    this.render();
  }

  render() {
    const self = this;
    const root = this.schema;
    while (this.container.firstChild) {
      this.container.removeChild(this.container.firstChild);
    }
    sectionOrder(Object.keys(root.properties || {})).forEach(function addSection(key) {
      const section = resolve(root, root.properties[key]);
      const fieldset = element('fieldset', { class: 'settings-section', 'data-section': key });
      fieldset.appendChild(element('legend', {}, SECTION_TITLES[key] || labelFor(key)));
      if (section.description) {
        fieldset.appendChild(element('p', { class: 'hint' }, plainText(section.description)));
      }
      const grid = element('div', { class: 'settings-grid' });
      if (section.properties && types(section).indexOf('array') === -1) {
        Object.keys(section.properties).forEach(function addField(name) {
          const field = new Field(self, key + '.' + name, resolve(root, section.properties[name]));
          grid.appendChild(field.render());
          self.fields.push(field);
        });
      } else {
        const field = new Field(self, key, section);
        grid.appendChild(field.render());
        self.fields.push(field);
      }
      fieldset.appendChild(grid);
      self.container.appendChild(fieldset);
    });

    this.container.addEventListener('input', function edited() { self.changed(); });
    this.container.addEventListener('change', function changedField(event) {
      if (self.partial && event.target && event.target.id.slice(-9) === '-override') {
        const field = self.fieldByOverride(event.target);
        if (field) {
          field.setOverridden(event.target.checked);
          if (!event.target.checked) {
            field.write(getPath(self.base, field.path));
            field.setError('');
          }
        }
      }
      self.changed();
    });
  }

  fieldByOverride(box) {
    for (let i = 0; i < this.fields.length; i += 1) {
      if (this.fields[i].overrideBox === box) {
        return this.fields[i];
      }
    }
    return null;
  }

  changed() {
    this.onChange();
  }

  /**
   * Fills the form. In full mode `values` is a whole settings document. In partial mode it is
   * the override document, and `inherited` the values shown for the fields it leaves out.
   */
  setValues(values, inherited) {
    this.base = copy(this.partial ? inherited || {} : values) || {};
    const self = this;
    this.fields.forEach(function fill(field) {
      const own = getPath(values, field.path);
      field.setError('');
      if (self.partial) {
        field.setOverridden(own !== undefined);
        field.write(own !== undefined ? own : getPath(self.base, field.path));
      } else {
        field.write(own);
      }
    });
  }

  /**
   * Reads the form. Returns `{document, errors}`: the whole document (full mode) or only the
   * overridden settings (partial mode), and the fields whose text cannot be read, each as
   * `{field, message}`.
   */
  collect() {
    const collected = this.partial ? {} : (copy(this.base) || {});
    const errors = [];
    this.fields.forEach(function readField(field) {
      if (!field.overridden) {
        return;
      }
      const result = field.read();
      if (result.error) {
        errors.push({ field: field.path, message: result.error });
      } else {
        setPath(collected, field.path, result.value);
      }
    });
    return { document: collected, errors: errors };
  }

  /** Returns the field whose path is `path` or the longest prefix of it, or null. */
  fieldFor(path) {
    let best = null;
    this.fields.forEach(function match(field) {
      const exact = path === field.path;
      const below = path.indexOf(field.path) === 0
        && (path.charAt(field.path.length) === '.' || path.charAt(field.path.length) === '[');
      if ((exact || below) && (best === null || field.path.length > best.path.length)) {
        best = field;
      }
    });
    return best;
  }

  /**
   * Shows each error `{field, message}` beside its field and clears the others. Returns the
   * errors that belong to no field, and moves the focus to the first marked field.
   * @param {Array<{field: string, message: string}>} errors
   * @param {string} [strip] prefix to remove from each error's field, such as `overrides.`
   */
  showErrors(errors, strip) {
    const self = this;
    const messages = {};
    const unmatched = [];
    this.fields.forEach(function clear(field) { field.setError(''); });
    let first = null;
    (errors || []).forEach(function place(error) {
      let path = String(error.field || '');
      if (strip && path.indexOf(strip) === 0) {
        path = path.slice(strip.length);
      }
      const field = self.fieldFor(path);
      if (!field) {
        unmatched.push(error);
        return;
      }
      const detail = path === field.path ? '' : path.slice(field.path.length).replace(/^\./, '') + ': ';
      const text = detail + capitalise(error.message);
      messages[field.path] = messages[field.path] ? messages[field.path] + ' ' + text : text;
      if (first === null) {
        first = field;
      }
    });
    this.fields.forEach(function show(field) {
      if (messages[field.path]) {
        field.setError(messages[field.path]);
      }
    });
    if (first !== null) {
      openSection(first.container);
      first.focus();
    }
    return unmatched;
  }
}

function capitalise(text) {
  const value = String(text || '');
  return value.charAt(0).toUpperCase() + value.slice(1);
}

/** Opens the `<details>` around `node`, if any, so a marked field is visible. */
function openSection(node) {
  let current = node;
  while (current && current !== document.body) {
    if (current.tagName === 'DETAILS') {
      current.open = true;
    }
    current = current.parentNode;
  }
}
