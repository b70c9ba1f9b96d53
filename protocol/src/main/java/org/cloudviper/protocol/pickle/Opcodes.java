package org.cloudviper.protocol.pickle;

/**
 * Pickle opcodes (CPython {@code Lib/pickle.py}, {@code Lib/pickletools.py}). The reader accepts the
 * binary opcodes of protocols 2-5 that CPython's own pickler and cloudpickle emit, plus the text
 * memo opcodes PUT/GET and GLOBAL; everything else is refused by name.
 */
final class Opcodes {
    static final int MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', FLOAT = 'F', INT = 'I',
            BININT = 'J', BININT1 = 'K', LONG = 'L', BININT2 = 'M', NONE = 'N', PERSID = 'P', BINPERSID = 'Q',
            REDUCE = 'R', STRING = 'S', BINSTRING = 'T', SHORT_BINSTRING = 'U', UNICODE = 'V', BINUNICODE = 'X',
            APPEND = 'a', BUILD = 'b', GLOBAL = 'c', DICT = 'd', EMPTY_DICT = '}', APPENDS = 'e', GET = 'g',
            BINGET = 'h', INST = 'i', LONG_BINGET = 'j', LIST = 'l', EMPTY_LIST = ']', OBJ = 'o', PUT = 'p',
            BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', EMPTY_TUPLE = ')', SETITEMS = 'u',
            BINFLOAT = 'G', PROTO = 0x80, NEWOBJ = 0x81, EXT1 = 0x82, EXT2 = 0x83, EXT4 = 0x84, TUPLE1 = 0x85,
            TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b,
            BINBYTES = 'B', SHORT_BINBYTES = 'C', SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e,
            EMPTY_SET = 0x8f, ADDITEMS = 0x90, FROZENSET = 0x91, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93,
            MEMOIZE = 0x94, FRAME = 0x95, BYTEARRAY8 = 0x96, NEXT_BUFFER = 0x97, READONLY_BUFFER = 0x98;

    /** The highest protocol a PROTO opcode may announce (CPython 3.8+ writes 5). */
    static final int HIGHEST_PROTOCOL = 5;

    private static final String[] NAMES = new String[256];

    static {
        String table = "( MARK|. STOP|0 POP|1 POP_MARK|2 DUP|F FLOAT|I INT|J BININT|K BININT1|L LONG|M BININT2|"
                + "N NONE|P PERSID|Q BINPERSID|R REDUCE|S STRING|T BINSTRING|U SHORT_BINSTRING|V UNICODE|"
                + "X BINUNICODE|a APPEND|b BUILD|c GLOBAL|d DICT|} EMPTY_DICT|e APPENDS|g GET|h BINGET|i INST|"
                + "j LONG_BINGET|l LIST|] EMPTY_LIST|o OBJ|p PUT|q BINPUT|r LONG_BINPUT|s SETITEM|t TUPLE|"
                + ") EMPTY_TUPLE|u SETITEMS|G BINFLOAT|B BINBYTES|C SHORT_BINBYTES";
        for (String entry : table.split("\\|")) {
            NAMES[entry.charAt(0)] = entry.substring(2);
        }
        String[] high = {"PROTO", "NEWOBJ", "EXT1", "EXT2", "EXT4", "TUPLE1", "TUPLE2", "TUPLE3", "NEWTRUE",
                "NEWFALSE", "LONG1", "LONG4", "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES8", "EMPTY_SET",
                "ADDITEMS", "FROZENSET", "NEWOBJ_EX", "STACK_GLOBAL", "MEMOIZE", "FRAME", "BYTEARRAY8",
                "NEXT_BUFFER", "READONLY_BUFFER"};
        for (int i = 0; i < high.length; i++) {
            NAMES[0x80 + i] = high[i];
        }
    }

    private Opcodes() {
    }

    /** {@code 0x50 'P' (PERSID)}, or {@code 0xff} for a byte that is no opcode at all. */
    static String describe(int op) {
        StringBuilder sb = new StringBuilder(String.format("0x%02x", op));
        if (op >= 0x20 && op < 0x7f) {
            sb.append(" '").append((char) op).append('\'');
        }
        if (NAMES[op] != null) {
            sb.append(" (").append(NAMES[op]).append(')');
        }
        return sb.toString();
    }

    static boolean known(int op) {
        return NAMES[op] != null;
    }
}
