package org.cloudviper.protocol.pickle;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Recognizes the objects of a Dask 2024.12.1 graph pickle by how CPython pickles them (nothing is
 * imported): {@code copyreg.__reduce_ex__} writes a plain class instance as {@code NEWOBJ(cls, ())}
 * followed by {@code BUILD(state)}, where state is the instance {@code __dict__}, or
 * {@code (None-or-__dict__, {slot: value})} for classes with {@code __slots__} such as
 * {@code dask._task_spec.Task}. {@code DataNode} and {@code distributed.client.Future} define
 * {@code __reduce__}: {@code REDUCE(cls, args)}.
 */
final class TaskSpec {
    static final String TASK_SPEC = "dask._task_spec";

    private TaskSpec() {
    }

    /**
     * An object: its class, the NEWOBJ/REDUCE arguments and its BUILD state: the instance dict and,
     * for slotted classes, the slot dict (the latter wins, as BUILD sets slots after the dict).
     * Fields are value ids of {@link #p} (0 = none).
     */
    static final class Obj {
        final ParsedPickle p;
        final int value;
        final int cls;
        final int args;
        final int dict;
        final int slots;
        final boolean reduced;

        Obj(ParsedPickle p, int value, int cls, int args, int dict, int slots, boolean reduced) {
            this.p = p;
            this.value = value;
            this.cls = cls;
            this.args = args;
            this.dict = dict;
            this.slots = slots;
            this.reduced = reduced;
        }

        PickleValue.Global cls() {
            return (PickleValue.Global) p.value(cls);
        }

        PickleValue args() {
            return p.value(args);
        }

        boolean reduced() {
            return reduced;
        }

        /** True for a BUILD state {@code (dict_or_None, {slot: value})}. */
        boolean slotted() {
            return slots != 0;
        }

        boolean is(String module, String name) {
            return cls().is(module, name);
        }

        String className() {
            return cls().describe();
        }

        /** The attribute's value id, or 0. */
        int attrId(String name) {
            int v = slots == 0 ? 0 : p.dictGet(slots, name);
            if (v == 0 && dict != 0) {
                v = p.dictGet(dict, name);
            }
            return v;
        }

        PickleValue attr(String name) {
            int v = attrId(name);
            return v == 0 ? null : p.value(v);
        }

        /** All str-named attributes (dict first, then slots), for tests and diagnostics. */
        Map<String, PickleValue> attrs() {
            Map<String, PickleValue> m = new LinkedHashMap<>();
            for (int d : new int[]{dict, slots}) {
                if (d != 0) {
                    for (int i = 0; i + 1 < p.childCount(d); i += 2) {
                        int k = p.resolve(p.child(d, i));
                        if (p.kind(k) == ParsedPickle.K_STR) {
                            m.put(p.strValue(k), p.value(p.child(d, i + 1)));
                        }
                    }
                }
            }
            return m;
        }
    }

    static Obj object(PickleValue v) {
        return v == null ? null : object(v.p, v.id);
    }

    /** The object value {@code id} denotes, or null if it is no NEWOBJ/REDUCE of a GLOBAL (+ BUILD). */
    static Obj object(ParsedPickle p, int id) {
        int v = p.resolve(id);
        int base = v;
        int state = 0;
        if (p.kind(v) == ParsedPickle.K_BUILD) {
            base = p.a[v];
            state = p.b[v];
        }
        int k = p.kind(base);
        boolean reduced;
        if (k == ParsedPickle.K_NEWOBJ) {
            reduced = false;
        } else if (k == ParsedPickle.K_REDUCE) {
            reduced = true;
        } else {
            return null;
        }
        int cls = p.resolve(p.a[base]);
        int ck = p.kind(cls);
        if (ck != ParsedPickle.K_GLOBAL && ck != ParsedPickle.K_GLOBAL_TEXT) {
            return null;
        }
        int dict = 0;
        int slots = 0;
        if (state != 0) {
            int s = p.resolve(state);
            if (p.kind(s) == ParsedPickle.K_TUPLE && p.childCount(s) == 2) {
                int d = p.resolve(p.child(s, 0));
                dict = p.kind(d) == ParsedPickle.K_DICT ? d : 0;
                // a slot state that is not a dict is a custom __setstate__ state: no attributes
                int sl = p.resolve(p.child(s, 1));
                slots = p.kind(sl) == ParsedPickle.K_DICT ? sl : 0;
            } else if (p.kind(s) == ParsedPickle.K_DICT) {
                dict = s;
            }
        }
        return new Obj(p, v, cls, p.b[base], dict, slots, reduced);
    }

    /**
     * The {@code _dependencies} frozenset (value id) of a GraphNode (Task, Alias, List/Tuple/Set/Dict,
     * any subclass pickled by slots), {@link #NO_DEPENDENCIES} for DataNode, or 0 if it is no
     * GraphNode.
     */
    static int dependencies(Obj o) {
        if (o == null) {
            return 0;
        }
        if (o.reduced) {
            return o.is(TASK_SPEC, "DataNode") ? NO_DEPENDENCIES : 0;
        }
        if (!o.slotted()) {
            return 0;
        }
        return o.p.dictGet(o.slots, "_dependencies");
    }

    /** Stands for DataNode's empty dependencies. */
    static final int NO_DEPENDENCIES = -1;

    /** The key (value id) a TaskRef or a distributed Future refers to, or 0. */
    static int taskRefKey(Obj o) {
        if (o == null) {
            return 0;
        }
        if (!o.reduced && o.is(TASK_SPEC, "TaskRef")) {
            return o.attrId("key");
        }
        if (o.reduced && o.is("distributed.client", "Future")) {
            int t = o.p.resolve(o.args);
            if (o.p.kind(t) == ParsedPickle.K_TUPLE && o.p.childCount(t) >= 1) {
                return o.p.child(t, 0);
            }
        }
        return 0;
    }
}
