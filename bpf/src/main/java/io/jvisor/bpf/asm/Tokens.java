package io.jvisor.bpf.asm;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** How assembly text splits into tokens, and what kind of token a string is; shared by both dialects. */
final class Tokens {
    private static final Pattern NUMBER = Pattern.compile("\\d+|0[xX][0-9a-fA-F]+");
    private static final Pattern REGISTER = Pattern.compile("[rw](10|[0-9]|1[1-5])");

    private Tokens() {}

    private static final String[] OPERATORS = {
        "s>>=", "<<=", ">>=", "s>=", "s<=", "s/=", "s%=", "s>", "s<", "+=", "-=", "*=", "/=", "|=", "&=", "^=",
        "%=", "==", "!=", ">=", "<=",
    };

    /** The tokens of {@code s}: operators (longest first), numbers, identifiers and single characters. */
    static List<String> tokenize(String s) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            String op = null;
            for (String o : OPERATORS) {
                if (s.startsWith(o, i)) {
                    op = o;
                    break;
                }
            }
            if (op != null) {
                out.add(op);
                i += op.length();
            } else if (Character.isDigit(c)) {
                int j = i + 1;
                if (c == '0' && j < s.length() && (s.charAt(j) == 'x' || s.charAt(j) == 'X')) {
                    j++;
                    while (j < s.length() && Character.digit(s.charAt(j), 16) >= 0) {
                        j++;
                    }
                } else {
                    while (j < s.length() && Character.isDigit(s.charAt(j))) {
                        j++;
                    }
                }
                out.add(s.substring(i, j));
                i = j;
            } else if (Character.isLetter(c) || c == '_' || c == '.' || c == '$') {
                int j = i + 1;
                while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || "_.$".indexOf(s.charAt(j)) >= 0)) {
                    j++;
                }
                out.add(s.substring(i, j));
                i = j;
            } else {
                out.add(String.valueOf(c));
                i++;
            }
        }
        return out;
    }

    static boolean isNumber(String t) {
        return t != null && !t.isEmpty() && Character.isDigit(t.charAt(0)) && NUMBER.matcher(t).matches();
    }

    static boolean isIdentifier(String t) {
        return t != null && !t.isEmpty() && (Character.isLetter(t.charAt(0)) || "_.$".indexOf(t.charAt(0)) >= 0);
    }

    static boolean isRegister(String t) {
        return t != null && t.length() >= 2 && t.length() <= 3 && (t.charAt(0) == 'r' || t.charAt(0) == 'w')
                && REGISTER.matcher(t).matches();
    }
}
