import VEMCore
import Testing

@testable import VEMAgent

@Suite struct ReturnTypeTests {
    @Test func parsesTextStrictly() {
        #expect(ReturnType.int.parse(" 42\n") == .success(.int(42)))
        #expect(ReturnType.int.parse("4.2").code == .conversion)
        #expect(ReturnType.int.parse("forty-two").code == .conversion)
        #expect(ReturnType.int.parse("").code == .conversion)
        #expect(ReturnType.int.parse("99999999999999999999").code == .conversion)
        #expect(ReturnType.float.parse("0.25\n") == .success(.float(0.25)))
        #expect(ReturnType.float.parse("nan").code == .conversion)
        #expect(ReturnType.float.parse("inf").code == .conversion)
        #expect(ReturnType.str.parse("a b\n\n") == .success(.string("a b")))
        #expect(ReturnType.bool.parse("Yes") == .success(.bool(true)))
        #expect(ReturnType.bool.parse("off\n") == .success(.bool(false)))
        #expect(ReturnType.bool.parse("maybe").code == .conversion)
    }

    @Test func parsesJSON() {
        #expect(ReturnType.json.parse("42") == .success(.int(42)))
        #expect(ReturnType.json.parse("true") == .success(.bool(true)))
        #expect(ReturnType.json.parse("1.5") == .success(.float(1.5)))
        #expect(ReturnType.json.parse("null") == .success(.null))
        #expect(
            ReturnType.json.parse(#"{"a": [1, "x", false], "b": {"c": null}}"#)
                == .success(.object(["a": .array([.int(1), .string("x"), .bool(false)]), "b": .object(["c": .null])])))
        let bad = ReturnType.json.parse(#"{"not": "json""#)
        #expect(bad.code == .conversion)
        #expect(bad.error?.message.contains("not valid JSON") == true)
    }

    @Test func convertsTypedValues() {
        #expect(ReturnType.int.convert(.float(12.7)) == .success(.int(13)))
        #expect(ReturnType.int.convert(.float(.infinity)).code == .conversion)
        #expect(ReturnType.float.convert(.int(3)) == .success(.float(3)))
        #expect(ReturnType.str.convert(.int(3)) == .success(.string("3")))
        #expect(ReturnType.bool.convert(.int(0)) == .success(.bool(false)))
        #expect(ReturnType.json.convert(.int(3)) == .success(.int(3)))
        #expect(ReturnType.int.convert(.array([])).code == .conversion)
    }

    @Test func jsonTextRoundTrips() {
        let v = PropertyValue.object(["b": .array([.int(1), .float(0.5)]), "a": .string("x/y")])
        #expect(v.jsonText == #"{"a":"x/y","b":[1,0.5]}"#)
        #expect(ReturnType.json.parse(v.jsonText) == .success(v))
    }
}
